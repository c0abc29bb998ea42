"""MobileNetV2 (Sandler et al., 2018) with named taps, built from the paper's Table 2 by :func:`mobilenet_v2_table`.

The inverted-residual block is :mod:`.inverted_residual`'s, the atrous rule :mod:`.atrous`'s; what every MobileNet
shares (blocks from rows, the OS8 alias) is :mod:`.mobilenet_base`'s.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Sequence

from torch import nn

from ...registry import MODELS
from ..feature_spec import FeatureSpec
from ..layers import ConvBNAct, make_divisible
from .inverted_residual import BlockRow
from .atrous import atrous_schedule
from .mobilenet_base import MobileNetBackbone, check_output_stride


class V2Stage(NamedTuple):
    """One row of MobileNetV2 Table 2: expansion t, output channels c, repeats n, stride s of the first block."""

    expansion: int
    out: int
    repeats: int
    stride: int


V2_STAGES = (
    V2Stage(1, 16, 1, 1),
    V2Stage(6, 24, 2, 2),
    V2Stage(6, 32, 3, 2),
    V2Stage(6, 64, 4, 2),
    V2Stage(6, 96, 3, 1),
    V2Stage(6, 160, 3, 2),
    V2Stage(6, 320, 1, 1),
)
V2_STEM = 32  # Table 2: conv2d 3x3, 32, stride 2
V2_FINAL = 1280  # Table 2: conv2d 1x1, 1280


@dataclass(frozen=True)
class V2Table:
    stem: int
    blocks: tuple[BlockRow, ...]
    final: int
    last_stage_start: int  # 1-based index of the stride-2 block that starts the last stage (14)


def mobilenet_v2_table(
    width_mult: float = 1.0,
    reduced_tail: str | None = None,
    output_stride: int = 32,
    scale_final_conv: bool = False,
    atrous_rule: str = "tf",
) -> V2Table:
    """MobileNetV2 Table 2 as block rows.

    ``reduced_tail="segmentation"`` is the V3 paper's Table 7 "RF2" for V2: the output channels of the last stage
    (bottlenecks 14–17: 160→80, 320→160) and the final 1x1 conv (1280→640) are halved; expansions stay
    ``t × in``, so bottleneck 14 keeps 576 and 15–17 expand to 480. ``output_stride=16`` makes bottleneck 14
    stride 1; with ``atrous_rule="tf"`` (TF-slim ``mobilenet_base``, used by TF DeepLab) it keeps rate 1 and
    bottlenecks 15–17 get dilation 2, with ``"torchvision"`` bottleneck 14 gets dilation 2 too (:mod:`.atrous`).
    Channels are ``make_divisible(c·α, 8)``; the final conv stays at 1280 for α < 1 (paper §6.1, classification)
    unless ``scale_final_conv`` — TF's feature extractors for detection (``mobilenet_base`` without
    ``finegrain_classification_mode``) scale it too, which is what MobileNetV3 Table 6's SSDLite V2 0.5 / 0.35 rows
    measure.
    """
    if reduced_tail not in (None, "segmentation"):
        raise ValueError(f"mobilenet_v2 reduced_tail must be None or 'segmentation', got {reduced_tail!r}")
    check_output_stride(output_stride)
    last = max(i for i, stage in enumerate(V2_STAGES) if stage.stride == 2)
    divider = 2 if reduced_tail else 1
    nominal = [(stage_idx, j, stage.stride if j == 0 else 1)
               for stage_idx, stage in enumerate(V2_STAGES) for j in range(stage.repeats)]
    # stem, the 17 blocks, the final 1x1 conv: TF's layer_1 .. layer_19
    schedule = atrous_schedule([2] + [s for _, _, s in nominal] + [1], output_stride, atrous_rule)[1:-1]
    stem = make_divisible(V2_STEM * width_mult, 8)
    rows: list[BlockRow] = []
    in_ch = stem
    for (stage_idx, j, _), layer in zip(nominal, schedule):
        stage = V2_STAGES[stage_idx]
        out = make_divisible(stage.out // (divider if stage_idx >= last else 1) * width_mult, 8)
        exp = int(round(in_ch * stage.expansion))
        rows.append(BlockRow(in_ch, 3, exp, out, None, "RE", layer.stride, layer.dilation))
        in_ch = out
    last_start = sum(stage.repeats for stage in V2_STAGES[:last]) + 1
    final = make_divisible(V2_FINAL // divider * (width_mult if scale_final_conv else max(1.0, width_mult)), 8)
    return V2Table(stem, tuple(rows), final, last_start)


@MODELS.register_module()
class MobileNetV2(MobileNetBackbone):
    """MobileNetV2 (Sandler et al., 2018, Table 2) with named taps.

    Units: ``stem``, ``block1``..``block17``, ``final_conv``. Aliases:
    ``C4`` = ``block14.expand`` (576 ch, OS 16; TF OD API ``layer_15/expansion_output``),
    ``C5`` = ``final_conv`` (1280 ch), ``C5_pre`` = ``block17.out`` (320 ch; the "V2*" segmentation feature of V2
    §6.3 / V3 Table 7), ``OS8`` = ``block6.depthwise`` (192 ch; TF DeepLab's low-level feature) or ``os8_tap``.
    ``atrous_rule``: see :func:`mobilenet_v2_table`. BN defaults are torchvision's (eps 1e-5, momentum 0.1).
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
        weights: object = None,
        norm_eval: bool = False,
        freeze_norm: bool = False,
        frozen_stages: int = -1,
        scale_final_conv: bool = False,
        atrous_rule: str = "tf",
    ) -> None:
        super().__init__()
        table = mobilenet_v2_table(width_mult, reduced_tail, output_stride, scale_final_conv, atrous_rule)
        self.width_mult, self.reduced_tail, self.output_stride = width_mult, reduced_tail, output_stride
        self.atrous_rule = atrous_rule
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
        self.finish_init(out_taps, weights, norm_eval, frozen_stages, freeze_norm)
