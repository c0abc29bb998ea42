"""MobileNetV1 (Howard et al., 2017) with named taps."""
from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

from torch import Tensor, nn

from ...registry import MODELS
from ..feature_spec import FeatureSpec
from ..layers import ConvBNAct, make_divisible
from .atrous import atrous_schedule
from .mobilenet_base import MobileNetBackbone, check_output_stride


class V1Layer(NamedTuple):
    """One depthwise-separable layer of MobileNetV1 Table 1: pointwise output channels, depthwise stride."""

    out: int
    stride: int


# MobileNetV1 Table 1: the 13 depthwise-separable layers ("conv 1".."conv 13", TF-slim Conv2d_1..Conv2d_13).
V1_LAYERS = (
    V1Layer(64, 1), V1Layer(128, 2), V1Layer(128, 1), V1Layer(256, 2), V1Layer(256, 1), V1Layer(512, 2),
    V1Layer(512, 1), V1Layer(512, 1), V1Layer(512, 1), V1Layer(512, 1), V1Layer(512, 1), V1Layer(1024, 2),
    V1Layer(1024, 1),
)
V1_STEM = 32  # Table 1: conv 3x3, 32, stride 2 (TF-slim Conv2d_0)
# "relu": the paper's text (§3.1, Figure 3); "relu6": TF-slim ``mobilenet_v1_arg_scope`` (``activation_fn=
# tf.nn.relu6``), which the TF Object Detection API's SSD and Faster R-CNN MobileNetV1 feature extractors use.
V1_ACTIVATIONS: dict[str, Callable[..., nn.Module]] = {"relu": nn.ReLU, "relu6": nn.ReLU6}


class DepthwiseSeparable(nn.Module):
    """MobileNetV1 §3.1 / Figure 3: 3x3 depthwise conv + BN + act → 1x1 pointwise conv + BN + act (ReLU or ReLU6).

    Tap points ``depthwise`` and ``out`` (the pointwise output, TF ``Conv2d_<i>_pointwise``).
    """

    tap_points = ("depthwise", "out")

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int,
        dilation: int,
        bn_eps: float,
        bn_momentum: float,
        act: Callable[..., nn.Module] = nn.ReLU,
    ) -> None:
        super().__init__()
        bn = dict(bn_eps=bn_eps, bn_momentum=bn_momentum)
        self.depthwise = ConvBNAct(in_channels, in_channels, 3, stride, in_channels, dilation, act=act, **bn)
        self.pointwise = ConvBNAct(in_channels, out_channels, 1, act=act, **bn)

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

    Units ``stem`` (conv 3x3, 32, s2) and ``conv1``..``conv13``. Aliases: ``C4`` = ``conv11`` (512 ch,
    OS 16; TF ``Conv2d_11_pointwise``, the RoI layer of V1 §4.6 Faster R-CNN), ``C5`` = ``conv13`` (1024 ch),
    ``OS8`` = ``conv5`` (256 ch, the last OS-8 layer; TF DeepLab defines no V1 low-level feature) or ``os8_tap``.
    ``width_mult`` is α of §3.3 (channels ``make_divisible(c·α, 8)``); ``output_stride=16`` makes conv 12 stride 1;
    ``atrous_rule="tf"`` (TF-slim ``mobilenet_v1_base``: ``layer_rate = rate; rate *= conv_def.stride``) keeps conv 12
    at rate 1 and gives conv 13 dilation 2, ``"torchvision"`` gives both dilation 2 (:mod:`.atrous`).
    ``activation``: ``"relu"`` (the paper's text, default) or ``"relu6"`` (TF-slim ``mobilenet_v1_arg_scope``, used by
    the TF OD API's detection feature extractors; the detection configs set it). V1 has no reduced tail. BN defaults
    are PyTorch's (eps 1e-5, momentum 0.1).
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
        weights: object = None,
        norm_eval: bool = False,
        freeze_norm: bool = False,
        frozen_stages: int = -1,
        reduced_tail: None = None,
        atrous_rule: str = "tf",
        activation: str = "relu",
    ) -> None:
        super().__init__()
        if reduced_tail is not None:
            raise ValueError(f"mobilenet_v1 has no reduced tail (got reduced_tail={reduced_tail!r})")
        check_output_stride(output_stride)
        if activation not in V1_ACTIVATIONS:
            raise ValueError(f"mobilenet_v1 activation must be one of {sorted(V1_ACTIVATIONS)}, got {activation!r}")
        act = V1_ACTIVATIONS[activation]
        self.width_mult, self.reduced_tail, self.output_stride = width_mult, None, output_stride
        self.atrous_rule, self.activation = atrous_rule, activation
        bn = dict(bn_eps=bn_eps, bn_momentum=bn_momentum)
        in_ch = make_divisible(V1_STEM * width_mult, 8)
        self.add_unit("stem", ConvBNAct(3, in_ch, 3, 2, act=act, **bn), {"out": FeatureSpec(in_ch, 2)})
        schedule = atrous_schedule([2] + [layer.stride for layer in V1_LAYERS], output_stride, atrous_rule)[1:]
        stride = 2
        for i, (layer, run) in enumerate(zip(V1_LAYERS, schedule), start=1):
            out = make_divisible(layer.out * width_mult, 8)
            unit = DepthwiseSeparable(in_ch, out, run.stride, run.dilation, act=act, **bn)
            stride *= run.stride
            specs = {"depthwise": FeatureSpec(in_ch, stride), "out": FeatureSpec(out, stride)}
            self.add_unit(f"conv{i}", unit, specs)
            in_ch = out
        self.num_features = in_ch
        self.add_alias("C4", "conv11")
        self.add_alias("C5", f"conv{len(V1_LAYERS)}")
        self._alias_os8(os8_tap)
        self.finish_init(out_taps, weights, norm_eval, frozen_stages, freeze_norm)
