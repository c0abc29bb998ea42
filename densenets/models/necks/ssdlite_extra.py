"""SSDLite extra feature layers (MobileNetV2 §6.2, MobileNetV3 §6.3; TF OD API ``multi_resolution_feature_maps``).

After the backbone's C4 and C5, four more maps of depths 512, 256, 256, 128 are made, each by
1x1 conv to half the depth -> 3x3 depthwise stride 2 -> 1x1 conv to the depth, every conv with BN + ReLU6.
As in TF, depths follow the backbone's width multiplier: ``max(int(d * width_mult), min_depth)``, with the 1x1
reduction at ``max(int(d / 2 * width_mult), min_depth)``.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

from torch import Tensor, nn

from ..layers import ConvBNAct
from ..feature_spec import FeatureSpec


class SSDLiteExtraBlock(nn.Sequential):
    """1x1 conv to ``mid`` -> 3x3 depthwise stride 2 -> 1x1 conv to ``out`` (BN + ReLU6 after each)."""

    def __init__(self, in_channels: int, mid: int, out: int, bn_eps: float, bn_momentum: float) -> None:
        bn = dict(act=nn.ReLU6, bn_eps=bn_eps, bn_momentum=bn_momentum)
        super().__init__(
            ConvBNAct(in_channels, mid, 1, **bn),
            ConvBNAct(mid, mid, 3, stride=2, groups=mid, **bn),
            ConvBNAct(mid, out, 1, **bn),
        )


class SSDLiteExtraLayers(nn.Module):
    """The four SSDLite extra layers, built from the last backbone tap's :class:`FeatureSpec`.

    ``forward(x)`` takes the last backbone map (C5) and returns the extra maps in order; :meth:`output_shape`
    gives their FeatureSpecs (stride doubles each time; size ``ceil(size / 2)`` with padding 1).
    """

    def __init__(
        self,
        in_spec: FeatureSpec,
        depths: Sequence[int] = (512, 256, 256, 128),
        width_mult: float = 1.0,
        min_depth: int = 16,
        bn_eps: float = 1e-3,
        bn_momentum: float = 0.03,
    ) -> None:
        super().__init__()
        self.in_spec = in_spec
        self.blocks = nn.ModuleList()
        specs: list[FeatureSpec] = []
        channels, stride = in_spec.channels, in_spec.stride
        for depth in depths:
            mid = max(int(depth / 2 * width_mult), min_depth)
            out = max(int(depth * width_mult), min_depth)
            self.blocks.append(SSDLiteExtraBlock(channels, mid, out, bn_eps, bn_momentum))
            channels, stride = out, stride * 2
            specs.append(FeatureSpec(channels, stride))
        self._specs = specs

    def output_shape(self) -> "OrderedDict[str, FeatureSpec]":
        return OrderedDict((f"extra{i + 1}", s) for i, s in enumerate(self._specs))

    def forward(self, x: Tensor) -> list[Tensor]:
        outs = []
        for block in self.blocks:
            x = block(x)
            outs.append(x)
        return outs
