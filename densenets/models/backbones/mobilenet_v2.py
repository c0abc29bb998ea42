"""MobileNetV2 (Sandler et al., 2018) with named taps, and the parts the MobileNet family shares.

* :class:`InvertedResidual` — the inverted-residual block of MobileNetV2 §3.3 / Table 1, also the MobileNetV3
  "bneck" (§5, with squeeze-and-excite and h-swish). Tap points ``expand`` (after the 1x1 expansion's BN + act;
  absent when the block has no expansion), ``depthwise`` (after the depthwise conv's BN + act, before SE — TF's
  ``depthwise_output``) and ``out``.
* :class:`MobileNetBackbone` — options every MobileNet takes: ``norm_eval``, ``frozen_stages``, ``weights``.
* :class:`MobileNetV2` — built from the paper's Table 2 by :func:`mobilenet_v2_table`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from torch import Tensor, nn

from ...registry import MODELS
from ..feature_spec import FeatureSpec
from .base import Backbone
from .layers import ConvBNAct, SqueezeExcite, make_divisible

REDUCED_TAILS = (None, "detection", "segmentation")


class InvertedResidual(nn.Module):
    """MobileNetV2 §3.3 inverted residual / MobileNetV3 §5 bneck.

    1x1 expansion + BN + act (skipped when ``exp_channels == in_channels``) → kxk depthwise (stride, dilation) + BN +
    act → optional SE (V3 §5.3) → linear 1x1 projection + BN. Residual only for stride 1 and ``in == out``.
    """

    def __init__(
        self,
        in_channels: int,
        exp_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        dilation: int = 1,
        act: Callable[..., nn.Module] = nn.ReLU6,
        se_channels: int | None = None,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
    ) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"InvertedResidual stride must be 1 or 2, got {stride}")
        bn = dict(bn_eps=bn_eps, bn_momentum=bn_momentum)
        has_expand = exp_channels != in_channels
        self.tap_points: tuple[str, ...] = ("expand", "depthwise", "out") if has_expand else ("depthwise", "out")
        self.expand = ConvBNAct(in_channels, exp_channels, 1, act=act, **bn) if has_expand else None
        self.depthwise = ConvBNAct(
            exp_channels, exp_channels, kernel_size, stride, groups=exp_channels, dilation=dilation, act=act, **bn
        )
        self.se = SqueezeExcite(exp_channels, se_channels) if se_channels else None
        self.project = ConvBNAct(exp_channels, out_channels, 1, act=None, **bn)
        self.use_residual = stride == 1 and in_channels == out_channels
        self.in_channels, self.exp_channels, self.out_channels = in_channels, exp_channels, out_channels

    def _tail(self, y: Tensor) -> Tensor:
        if self.se is not None:
            y = self.se(y)
        return self.project(y)

    def forward(self, x: Tensor) -> Tensor:
        y = self.expand(x) if self.expand is not None else x
        y = self._tail(self.depthwise(y))
        return x + y if self.use_residual else y

    def forward_taps(self, x: Tensor, points: frozenset[str]) -> tuple[Tensor, dict[str, Tensor]]:
        inner: dict[str, Tensor] = {}
        y = x
        if self.expand is not None:
            y = self.expand(y)
            inner["expand"] = y
        y = self.depthwise(y)
        inner["depthwise"] = y
        y = self._tail(y)
        return (x + y if self.use_residual else y), inner

    def forward_from(self, point: str, x: Tensor) -> Tensor:
        if point == "out":
            return x
        if point not in self.tap_points:
            raise ValueError(f"this block has no tap point {point!r} (points: {self.tap_points})")
        if self.use_residual:
            raise ValueError(f"cannot resume a residual block from {point!r}: the shortcut needs the block input")
        if point == "expand":
            x = self.depthwise(x)
        return self._tail(x)


class MobileNetBackbone(Backbone):
    """What the MobileNets share beyond :class:`Backbone`: inverted-residual blocks from table rows, the OS8 alias.
    (``norm_eval``, ``frozen_stages`` and ``weights`` are :meth:`Backbone.finish_init`'s, for every backbone.)"""

    arch: str = ""

    def _add_blocks(self, blocks: Sequence["BlockRow"], stride: int, act_of: Callable[[str], type], bn: dict) -> int:
        """Add ``block1..blockN`` from table rows; return the output stride after the last block."""
        for i, row in enumerate(blocks, start=1):
            unit = InvertedResidual(
                row.in_channels, row.exp, row.out, row.kernel, row.stride, row.dilation, act_of(row.act), row.se, **bn
            )
            specs = {"expand": FeatureSpec(row.exp, stride)} if unit.expand is not None else {}
            stride *= row.stride
            specs.update(depthwise=FeatureSpec(row.exp, stride), out=FeatureSpec(row.out, stride))
            self.add_unit(f"block{i}", unit, specs)
        return stride

    def _alias_os8(self, os8_tap: str) -> None:
        spec = self._specs[self.resolve(os8_tap)]
        if spec.stride != 8:
            raise ValueError(f"os8_tap={os8_tap!r} has output stride {spec.stride}, not 8")
        self.add_alias("OS8", os8_tap)


@dataclass(frozen=True)
class BlockRow:
    """One inverted-residual block after width, reduced tail and output stride are applied."""

    in_channels: int
    kernel: int
    exp: int
    out: int
    se: int | None  # squeeze channels of the SE module, None without SE
    act: str  # "RE" (ReLU / ReLU6 for V2), "HS" (h-swish)
    stride: int
    dilation: int


# MobileNetV2 paper Table 2: expansion t, output channels c, repeats n, first stride s.
V2_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


@dataclass(frozen=True)
class V2Table:
    stem: int
    blocks: tuple[BlockRow, ...]
    final: int
    last_stage_start: int  # 1-based index of the stride-2 block that starts the last stage (14)


def mobilenet_v2_table(
    width_mult: float = 1.0, reduced_tail: str | None = None, output_stride: int = 32, scale_final_conv: bool = False
) -> V2Table:
    """MobileNetV2 Table 2 as block rows.

    ``reduced_tail="segmentation"`` is the V3 paper's Table 7 "RF2" for V2: the output channels of the last stage
    (bottlenecks 14–17: 160→80, 320→160) and the final 1x1 conv (1280→640) are halved; expansions stay
    ``t × in``, so bottleneck 14 keeps 576 and 15–17 expand to 480. ``output_stride=16`` makes bottleneck 14 stride 1 and gives
    it and every later depthwise conv dilation 2. Channels are ``make_divisible(c·α, 8)``; the final conv stays at
    1280 for α < 1 (paper §6.1, classification) unless ``scale_final_conv`` — TF's feature extractors for detection
    (``mobilenet_base`` without ``finegrain_classification_mode``) scale it too, which is what MobileNetV3 Table 6's
    SSDLite V2 0.5 / 0.35 rows measure.
    """
    if reduced_tail not in (None, "segmentation"):
        raise ValueError(f"mobilenet_v2 reduced_tail must be None or 'segmentation', got {reduced_tail!r}")
    if output_stride not in (16, 32):
        raise ValueError(f"output_stride must be 16 or 32, got {output_stride}")
    last = max(i for i, (_, _, _, s) in enumerate(V2_STAGES) if s == 2)
    divider = 2 if reduced_tail else 1
    stem = make_divisible(32 * width_mult, 8)
    rows: list[BlockRow] = []
    in_ch, last_start = stem, 0
    for stage, (t, c, n, s) in enumerate(V2_STAGES):
        tail = stage >= last
        out = make_divisible(c // (divider if tail else 1) * width_mult, 8)
        for j in range(n):
            first_of_tail = tail and stage == last and j == 0
            if first_of_tail:
                last_start = len(rows) + 1
            stride = s if j == 0 and not (first_of_tail and output_stride == 16) else 1
            dilation = 2 if tail and output_stride == 16 else 1
            exp = int(round(in_ch * t))
            rows.append(BlockRow(in_ch, 3, exp, out, None, "RE", stride, dilation))
            in_ch = out
    final = make_divisible(1280 // divider * (width_mult if scale_final_conv else max(1.0, width_mult)), 8)
    return V2Table(stem, tuple(rows), final, last_start)


@MODELS.register_module()
class MobileNetV2(MobileNetBackbone):
    """MobileNetV2 (Sandler et al., 2018, Table 2) with named taps.

    Units: ``stem``, ``block1``..``block17``, ``final_conv``. Aliases (SPEC §2):
    ``C4`` = ``block14.expand`` (576 ch, OS 16; TF OD API ``layer_15/expansion_output``),
    ``C5`` = ``final_conv`` (1280 ch), ``C5_pre`` = ``block17.out`` (320 ch; the "V2*" segmentation feature of V2
    §6.3 / V3 Table 7), ``OS8`` = ``block6.depthwise`` (192 ch; TF DeepLab's low-level feature) or ``os8_tap``.
    BN defaults are torchvision's (eps 1e-5, momentum 0.1).
    """

    arch = "mobilenet_v2"

    def __init__(
        self,
        width_mult: float = 1.0,
        reduced_tail: str | None = None,
        output_stride: int = 32,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
        out_taps: Sequence[str] = ("C4", "C5"),
        os8_tap: str = "block6.depthwise",
        weights: str | None = None,
        norm_eval: bool = False,
        frozen_stages: int = -1,
        scale_final_conv: bool = False,
    ) -> None:
        super().__init__()
        table = mobilenet_v2_table(width_mult, reduced_tail, output_stride, scale_final_conv)
        self.width_mult, self.reduced_tail, self.output_stride = width_mult, reduced_tail, output_stride
        bn = dict(bn_eps=bn_eps, bn_momentum=bn_momentum)
        self.add_unit("stem", ConvBNAct(3, table.stem, 3, 2, act=nn.ReLU6, **bn), {"out": FeatureSpec(table.stem, 2)})
        stride = self._add_blocks(table.blocks, 2, lambda act: nn.ReLU6, bn)
        last_out = table.blocks[-1].out
        self.add_unit(
            "final_conv",
            ConvBNAct(last_out, table.final, 1, act=nn.ReLU6, **bn),
            {"out": FeatureSpec(table.final, stride)},
        )
        self.num_features = table.final
        self.add_alias("C4", f"block{table.last_stage_start}.expand")
        self.add_alias("C5", "final_conv")
        self.add_alias("C5_pre", f"block{len(table.blocks)}.out")
        self._alias_os8(os8_tap)
        self.finish_init(out_taps, weights, norm_eval, frozen_stages)
