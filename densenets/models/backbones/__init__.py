"""Mobile backbones with named taps. ``build_backbone(name, **options)`` builds one in plain Python.

:data:`BACKBONES` maps each name of ``docs/design.md`` to its builder (a class or a function taking the options).
"""
from __future__ import annotations

from typing import Any, Callable

from .base import Backbone, TappedUnit
from .mobilenet_v1 import MobileNetV1
from .mobilenet_v2 import MobileNetV2
from .mobilenet_v3 import MobileNetV3, mobilenet_v3_large, mobilenet_v3_small
from .shufflenet_v1 import ShuffleNetV1
from .shufflenet_v2 import ShuffleNetV2

BACKBONES: dict[str, Callable[..., Backbone]] = {
    "mobilenet_v1": MobileNetV1,
    "mobilenet_v2": MobileNetV2,
    "mobilenet_v3_large": mobilenet_v3_large,
    "mobilenet_v3_small": mobilenet_v3_small,
    "shufflenet_v1": ShuffleNetV1,
    "shufflenet_v2": ShuffleNetV2,
}


def build_backbone(name: str, **options: Any) -> Backbone:
    """Build the backbone ``name`` (a key of :data:`BACKBONES`) with its options (``out_taps``, ``width_mult``...)."""
    if name not in BACKBONES:
        raise KeyError(f"unknown backbone {name!r}; available: {sorted(BACKBONES)}")
    return BACKBONES[name](**options)


__all__ = [
    "BACKBONES", "Backbone", "TappedUnit", "build_backbone",
    "MobileNetV1", "MobileNetV2", "MobileNetV3", "ShuffleNetV1", "ShuffleNetV2",
]
