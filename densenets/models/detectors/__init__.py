from .ssdlite import SSDLite  # noqa: F401
from .faster_rcnn import FasterRCNN  # noqa: F401
