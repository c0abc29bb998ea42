"""Data pipelines: registered pipeline steps plus the albumentations transforms they run."""
from .albu import Albumentations, build_albu
from .albu_ops import MinIoURandomCrop, ResizeShortestEdge, SSDPhotometricDistort, ZoomOut
from .formatting import PackDetInputs, PackInputs, PackSegInputs
from .loading import LoadCityscapesAnnotations, LoadImageFromFile
from .seg_transforms import (  # noqa: F401
    SegPhotoMetricDistortion, SegRandomCrop, SegRandomFlip, SegRandomScale, SegResize)

__all__ = [
    "Albumentations",
    "build_albu",
    "LoadCityscapesAnnotations",
    "LoadImageFromFile",
    "MinIoURandomCrop",
    "PackDetInputs",
    "PackInputs",
    "PackSegInputs",
    "ResizeShortestEdge",
    "SSDPhotometricDistort",
    "ZoomOut",
]
