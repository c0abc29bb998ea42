from .cityscapes_metric import CityscapesMetric  # noqa: F401
from .coco_metric import CocoMetric  # noqa: F401
