"""SSDLite extra feature layers (MobileNetV2 §6.2, MobileNetV3 §6.3; TF OD API ``multi_resolution_feature_maps``).

After the backbone's C4 and C5, four more maps of depths 512, 256, 256, 128 are made, each by
1x1 conv to half the depth -> 3x3 depthwise stride 2 -> 1x1 conv to the depth, every conv with BN + ReLU6.
As in TF, depths follow the backbone's width multiplier: ``max(int(d * width_mult), min_depth)``, with the 1x1
reduction at ``max(int(d / 2 * width_mult), min_depth)``.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Mapping, Sequence

from torch import Tensor, nn

from ..layers import ConvBNAct
from ..feature_spec import FeatureSpec
from .base import Neck


class SSDLiteExtraBlock(nn.Sequential):
    """1x1 conv to ``mid`` -> 3x3 depthwise stride 2 -> 1x1 conv to ``out`` (BN + ReLU6 after each)."""

    def __init__(self, in_channels: int, mid: int, out: int, bn_eps: float, bn_momentum: float) -> None:
        bn = dict(act=nn.ReLU6, bn_eps=bn_eps, bn_momentum=bn_momentum)
        super().__init__(
            ConvBNAct(in_channels, mid, 1, **bn),
            ConvBNAct(mid, mid, 3, stride=2, groups=mid, **bn),
            ConvBNAct(mid, out, 1, **bn),
        )


class SSDLiteExtraLayers(Neck):
    """The four SSDLite extra layers after the backbone's last tap (C5), built from the backbone's ``output_shape()``.

    ``forward(feats)`` takes the backbone's ``{tap: Tensor}`` and returns the maps the predictors read: the backbone
    taps (in order, unchanged) then ``extra1`` .. ``extra4``; :meth:`output_shape` gives their FeatureSpecs (the
    stride doubles each time; size ``ceil(size / 2)`` with padding 1).
    """

    def __init__(
        self,
        in_specs: Mapping[str, FeatureSpec],
        depths: Sequence[int] = (512, 256, 256, 128),
        width_mult: float = 1.0,
        min_depth: int = 16,
        bn_eps: float = 1e-3,
        bn_momentum: float = 0.03,
    ) -> None:
        super().__init__(in_specs)
        self.blocks = nn.ModuleList()
        self._specs = OrderedDict(self.in_specs)
        last = list(self.in_specs.values())[-1]
        channels, stride = last.channels, last.stride
        for i, depth in enumerate(depths):
            mid = max(int(depth / 2 * width_mult), min_depth)
            out = max(int(depth * width_mult), min_depth)
            self.blocks.append(SSDLiteExtraBlock(channels, mid, out, bn_eps, bn_momentum))
            channels, stride = out, stride * 2
            self._specs[f"extra{i + 1}"] = FeatureSpec(channels, stride)

    def output_shape(self) -> "OrderedDict[str, FeatureSpec]":
        return OrderedDict(self._specs)

    def forward(self, feats: Mapping[str, Tensor]) -> "OrderedDict[str, Tensor]":
        out = OrderedDict((k, feats[k]) for k in self.in_specs)
        x = out[next(reversed(self.in_specs))]
        for i, block in enumerate(self.blocks):
            x = block(x)
            out[f"extra{i + 1}"] = x
        return out
