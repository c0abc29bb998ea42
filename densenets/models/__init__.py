"""Models: backbones, necks, heads, detectors, segmentors."""
from .backbones import build_backbone  # noqa: F401
from .classifier import ImageClassifier  # noqa: F401
from .data_preprocessor import ImagePreprocessor  # noqa: F401
from .segmentors import EncoderDecoder  # noqa: F401
from .detectors import SSDLite  # noqa: F401
from .detectors import FasterRCNN  # noqa: F401
