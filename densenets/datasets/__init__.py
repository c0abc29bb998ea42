from .coco import CocoDetection  # noqa: F401
from .transforms import Albumentations, LoadImageFromFile, PackDetInputs  # noqa: F401
from .cityscapes import CityscapesDataset  # noqa: F401
