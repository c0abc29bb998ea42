"""Data pipelines: registered pipeline steps plus the albumentations transforms they run."""
from .albu import Albumentations, build_albu
from .albu_ops import MinIoURandomCrop, ResizeShortestEdge, SSDPhotometricDistort, ZoomOut
from .formatting import PackDetInputs
from .loading import LoadImageFromFile
from .seg_transforms import (  # noqa: F401
    SegPhotoMetricDistortion, SegRandomCrop, SegRandomFlip, SegRandomScale, SegResize)

__all__ = [
    "Albumentations",
    "build_albu",
    "LoadImageFromFile",
    "MinIoURandomCrop",
    "PackDetInputs",
    "ResizeShortestEdge",
    "SSDPhotometricDistort",
    "ZoomOut",
]
