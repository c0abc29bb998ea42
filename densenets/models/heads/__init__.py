from .lraspp_head import LRASPPHead  # noqa: F401
from .raspp_head import RASPPHead  # noqa: F401
from .ssdlite_head import SSDLiteHead  # noqa: F401
from .rcnn_tail_head import BackboneTailHead  # noqa: F401
