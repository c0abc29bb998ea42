"""MobileNetV1 (Howard et al., 2017) with named taps."""
from __future__ import annotations

from typing import Sequence

from torch import Tensor, nn

from ...registry import MODELS
from ..feature_spec import FeatureSpec
from .layers import ConvBNAct, make_divisible
from .mobilenet_v2 import MobileNetBackbone

# MobileNetV1 Table 1: output channels and stride of the 13 depthwise-separable layers ("conv 1".."conv 13").
V1_ROWS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1),
           (512, 1), (1024, 2), (1024, 1))


class DepthwiseSeparable(nn.Module):
    """MobileNetV1 §3.1 / Figure 3: 3x3 depthwise conv + BN + ReLU → 1x1 pointwise conv + BN + ReLU.

    Tap points ``depthwise`` and ``out`` (the pointwise output, TF ``Conv2d_<i>_pointwise``).
    """

    tap_points = ("depthwise", "out")

    def __init__(
        self, in_channels: int, out_channels: int, stride: int, dilation: int, bn_eps: float, bn_momentum: float
    ) -> None:
        super().__init__()
        bn = dict(bn_eps=bn_eps, bn_momentum=bn_momentum)
        self.depthwise = ConvBNAct(in_channels, in_channels, 3, stride, in_channels, dilation, act=nn.ReLU, **bn)
        self.pointwise = ConvBNAct(in_channels, out_channels, 1, act=nn.ReLU, **bn)

    def forward(self, x: Tensor) -> Tensor:
        return self.pointwise(self.depthwise(x))

    def forward_taps(self, x: Tensor, points: frozenset[str]) -> tuple[Tensor, dict[str, Tensor]]:
        y = self.depthwise(x)
        return self.pointwise(y), {"depthwise": y}

    def forward_from(self, point: str, x: Tensor) -> Tensor:
        if point == "depthwise":
            return self.pointwise(x)
        if point == "out":
            return x
        raise ValueError(f"DepthwiseSeparable has no tap point {point!r}")


@MODELS.register_module()
class MobileNetV1(MobileNetBackbone):
    """MobileNetV1 (Howard et al., 2017, Table 1) with named taps.

    Units ``stem`` (conv 3x3, 32, s2) and ``conv1``..``conv13``. Aliases (SPEC §2): ``C4`` = ``conv11`` (512 ch,
    OS 16; TF ``Conv2d_11_pointwise``, the RoI layer of V1 §4.6 Faster R-CNN), ``C5`` = ``conv13`` (1024 ch),
    ``OS8`` = ``conv5`` (256 ch, the last OS-8 layer; TF DeepLab defines no V1 low-level feature) or ``os8_tap``.
    ``width_mult`` is α of §3.3 (channels ``make_divisible(c·α, 8)``); ``output_stride=16`` makes conv 12 stride 1
    and gives conv 12–13 dilation 2. V1 has no reduced tail. BN defaults are PyTorch's (eps 1e-5, momentum 0.1).
    """

    arch = "mobilenet_v1"

    def __init__(
        self,
        width_mult: float = 1.0,
        output_stride: int = 32,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
        out_taps: Sequence[str] = ("C4", "C5"),
        os8_tap: str = "conv5",
        weights: str | None = None,
        norm_eval: bool = False,
        frozen_stages: int = -1,
        reduced_tail: None = None,
    ) -> None:
        super().__init__()
        if reduced_tail is not None:
            raise ValueError(f"mobilenet_v1 has no reduced tail (got reduced_tail={reduced_tail!r})")
        if output_stride not in (16, 32):
            raise ValueError(f"output_stride must be 16 or 32, got {output_stride}")
        self.width_mult, self.reduced_tail, self.output_stride = width_mult, None, output_stride
        bn = dict(bn_eps=bn_eps, bn_momentum=bn_momentum)
        in_ch = make_divisible(32 * width_mult, 8)
        self.add_unit("stem", ConvBNAct(3, in_ch, 3, 2, act=nn.ReLU, **bn), {"out": FeatureSpec(in_ch, 2)})
        stride, last = 2, max(i for i, (_, s) in enumerate(V1_ROWS) if s == 2)
        for i, (c, s) in enumerate(V1_ROWS):
            atrous = output_stride == 16 and i >= last
            s = 1 if atrous else s
            out = make_divisible(c * width_mult, 8)
            unit = DepthwiseSeparable(in_ch, out, s, 2 if atrous else 1, **bn)
            stride *= s
            specs = {"depthwise": FeatureSpec(in_ch, stride), "out": FeatureSpec(out, stride)}
            self.add_unit(f"conv{i + 1}", unit, specs)
            in_ch = out
        self.num_features = in_ch
        self.add_alias("C4", "conv11")
        self.add_alias("C5", f"conv{len(V1_ROWS)}")
        self._alias_os8(os8_tap)
        self.finish_init(out_taps, weights, norm_eval, frozen_stages)
