"""Feature Pyramid Network neck over named backbone taps (Lin et al., FPN §3), wrapping torchvision's FPN.

Used by the modern mobile Faster R-CNN form (torchvision's ``fasterrcnn_mobilenet_v3_large_fpn``): lateral 1x1 and
output 3x3 convolutions of ``out_channels`` on every tap, top-down nearest upsampling, and an extra max-pooled
level (``LastLevelMaxPool``, key ``"pool"``) used by the RPN only.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Mapping

from torch import Tensor
from torchvision.ops import FeaturePyramidNetwork
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

from ..feature_spec import FeatureSpec
from .base import Neck


class FPN(Neck):
    """FPN built from the backbone's ``output_shape()``; returns the taps' names (same order) plus ``"pool"``."""

    def __init__(self, in_specs: Mapping[str, FeatureSpec], out_channels: int = 256, extra_pool: bool = True) -> None:
        super().__init__(in_specs)
        strides = [s.stride for s in self.in_specs.values()]
        if strides != sorted(strides):
            raise ValueError(f"FPN inputs must be ordered from fine to coarse, got strides {strides}")
        self.out_channels = out_channels
        self.fpn = FeaturePyramidNetwork(
            [s.channels for s in self.in_specs.values()],
            out_channels,
            extra_blocks=LastLevelMaxPool() if extra_pool else None,
        )
        self.extra_pool = extra_pool

    def output_shape(self) -> "OrderedDict[str, FeatureSpec]":
        out = OrderedDict((k, FeatureSpec(self.out_channels, s.stride)) for k, s in self.in_specs.items())
        if self.extra_pool:  # LastLevelMaxPool: kernel 1, stride 2 on the coarsest level
            out["pool"] = FeatureSpec(self.out_channels, 2 * list(self.in_specs.values())[-1].stride)
        return out

    def forward(self, feats: Mapping[str, Tensor]) -> "OrderedDict[str, Tensor]":
        return self.fpn(OrderedDict((k, feats[k]) for k in self.in_specs))
