from .ssdlite_extra import SSDLiteExtraLayers  # noqa: F401
from .fpn import FPN  # noqa: F401
