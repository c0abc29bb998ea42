"""MobileNetV3-Large and -Small (Howard et al., 2019) with named taps, built from one architecture table.

:func:`mobilenet_v3_table` turns the paper's Table 1 (Large) / Table 2 (Small) into block rows for a width
multiplier, a reduced tail and an output stride, so every variant is built from its table, never patched afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from torch import nn

from ...registry import MODELS
from ..feature_spec import FeatureSpec
from .layers import ConvBNAct, make_divisible
from .mobilenet_v2 import REDUCED_TAILS, BlockRow, MobileNetBackbone

# Paper rows: kernel, expansion, output channels, SE, non-linearity, stride.
V3_LARGE_ROWS = (
    (3, 16, 16, False, "RE", 1),
    (3, 64, 24, False, "RE", 2),
    (3, 72, 24, False, "RE", 1),
    (5, 72, 40, True, "RE", 2),
    (5, 120, 40, True, "RE", 1),
    (5, 120, 40, True, "RE", 1),
    (3, 240, 80, False, "HS", 2),
    (3, 200, 80, False, "HS", 1),
    (3, 184, 80, False, "HS", 1),
    (3, 184, 80, False, "HS", 1),
    (3, 480, 112, True, "HS", 1),
    (3, 672, 112, True, "HS", 1),
    (5, 672, 160, True, "HS", 2),
    (5, 960, 160, True, "HS", 1),
    (5, 960, 160, True, "HS", 1),
)
V3_SMALL_ROWS = (
    (3, 16, 16, True, "RE", 2),
    (3, 72, 24, False, "RE", 2),
    (3, 88, 24, False, "RE", 1),
    (5, 96, 40, True, "HS", 2),
    (5, 240, 40, True, "HS", 1),
    (5, 240, 40, True, "HS", 1),
    (5, 120, 48, True, "HS", 1),
    (5, 144, 48, True, "HS", 1),
    (5, 288, 96, True, "HS", 2),
    (5, 576, 96, True, "HS", 1),
    (5, 576, 96, True, "HS", 1),
)
# stem channels, blocks, final 1x1 conv (C5), classifier hidden width, TF DeepLab low-level (OS 8) tap
V3_ARCHS = {
    "large": (16, V3_LARGE_ROWS, 960, 1280, "block6.depthwise"),
    "small": (16, V3_SMALL_ROWS, 576, 1024, "block3.depthwise"),
}
ACTIVATIONS = {"RE": nn.ReLU, "HS": nn.Hardswish}


@dataclass(frozen=True)
class V3Table:
    stem: int
    blocks: tuple[BlockRow, ...]
    final: int
    head: int
    last_stage_start: int  # 1-based index of the stride-2 bneck that starts the last stage (13 Large, 9 Small)
    os8_tap: str


def mobilenet_v3_table(
    arch: str,
    width_mult: float = 1.0,
    reduced_tail: str | None = None,
    output_stride: int = 32,
    width_rule: str = "paper",
) -> V3Table:
    """Block rows of MobileNetV3-``arch`` ("large" | "small").

    * ``reduced_tail="detection"`` — V3 paper Table 6 "†" / TF ``V3_LARGE_DETECTION``: the last stage's output
      channels, the expansions after its first block, the final conv and the classifier width are halved
      (Large: out 160→80, exp 960→480, C5 960→480; C4 stays 672).
    * ``reduced_tail="segmentation"`` — TF DeepLab ``mobilenet_v3_*_seg``: also the first block's expansion
      (Large bneck 13 exp 672→336; Small bneck 9 exp 288→144).
    * ``output_stride=16`` — the stride-2 block of the last stage gets stride 1; it and every later depthwise conv
      get dilation 2 (V3 §6.4).
    * ``width_mult`` α: block outputs, stem and final conv are ``make_divisible(c·α, 8)``. Expansions and the
      classifier width follow ``width_rule``: ``"paper"`` (the TF reference that produced the paper's Table 3:
      expansion = the row's ratio exp/in × the scaled input, classifier width kept at 1280 / 1024 for α < 1;
      Large 0.75 → 4.0M params, 155M MAdds) or ``"torchvision"`` (every width scaled by α, as torchvision's
      ``width_mult``). Both rules give the same network at α = 1.
    SE squeeze width is ``make_divisible(exp/4, 8)`` (§5.3).
    """
    if arch not in V3_ARCHS:
        raise ValueError(f"MobileNetV3 arch must be one of {sorted(V3_ARCHS)}, got {arch!r}")
    if reduced_tail not in REDUCED_TAILS:
        raise ValueError(f"reduced_tail must be one of {REDUCED_TAILS}, got {reduced_tail!r}")
    if output_stride not in (16, 32):
        raise ValueError(f"output_stride must be 16 or 32, got {output_stride}")
    if width_rule not in ("paper", "torchvision"):
        raise ValueError(f"width_rule must be 'paper' or 'torchvision', got {width_rule!r}")
    stem, rows, final, head, os8_tap = V3_ARCHS[arch]
    last = max(i for i, row in enumerate(rows) if row[5] == 2)
    divider = 2 if reduced_tail else 1

    def ch(c: float) -> int:
        return make_divisible(c * width_mult, 8)

    blocks: list[BlockRow] = []
    in_ch, in_base = ch(stem), stem
    for i, (k, exp, out, se, act, s) in enumerate(rows):
        tail = i >= last
        if tail:
            out //= divider
            if i > last or reduced_tail == "segmentation":
                exp //= divider
        if width_rule == "torchvision":
            exp_ch = ch(exp)
        else:  # TF expand_input(exp / in): a ratio of the (scaled) input channels
            exp_ch = in_ch if exp == in_base else make_divisible(in_ch * exp / in_base, 8)
        stride = 1 if (i == last and output_stride == 16) else s
        dilation = 2 if (tail and output_stride == 16) else 1
        se_ch = make_divisible(exp_ch // 4, 8) if se else None
        blocks.append(BlockRow(in_ch, k, exp_ch, ch(out), se_ch, act, stride, dilation))
        in_ch, in_base = ch(out), out
    head_mult = width_mult if width_rule == "torchvision" else max(1.0, width_mult)
    head_ch = make_divisible(head // divider * head_mult, 8)
    return V3Table(ch(stem), tuple(blocks), ch(final // divider), head_ch, last + 1, os8_tap)


@MODELS.register_module()
class MobileNetV3(MobileNetBackbone):
    """MobileNetV3 (Howard et al., 2019; §5, Tables 1–2) with named taps.

    Units ``stem``, ``block1``..``block15`` (Large) / ``block11`` (Small), ``final_conv``. Aliases (SPEC §2):
    ``C4`` = expansion output of bneck 13 (Large, 672 ch) / 9 (Small, 288 ch) at OS 16 (TF OD API
    ``layer_14/expansion_output`` / ``layer_10/expansion_output``); ``C5`` = ``final_conv`` (960 / 576 ch);
    ``OS8`` = TF DeepLab's low-level feature, the depthwise output of bneck 6 (Large, 120 ch) / 3 (Small, 88 ch) —
    pass ``os8_tap="block4.out"`` for torchvision's LR-ASPP choice. ``width_rule``: see :func:`mobilenet_v3_table`
    (``"torchvision"`` to load torchvision checkpoints built with ``width_mult`` ≠ 1). BN defaults are torchvision's (eps 1e-3,
    momentum 0.01). ``num_features`` = C5 channels, ``head_channels`` = width of the classifier's hidden layer.
    """

    def __init__(
        self,
        arch: str = "large",
        width_mult: float = 1.0,
        reduced_tail: str | None = None,
        output_stride: int = 32,
        bn_eps: float = 1e-3,
        bn_momentum: float = 0.01,
        out_taps: Sequence[str] = ("C4", "C5"),
        os8_tap: str | None = None,
        width_rule: str = "paper",
        weights: str | None = None,
        norm_eval: bool = False,
        frozen_stages: int = -1,
    ) -> None:
        super().__init__()
        table = mobilenet_v3_table(arch, width_mult, reduced_tail, output_stride, width_rule)
        self.arch = f"mobilenet_v3_{arch}"
        self.width_mult, self.reduced_tail, self.output_stride = width_mult, reduced_tail, output_stride
        bn = dict(bn_eps=bn_eps, bn_momentum=bn_momentum)
        stem = ConvBNAct(3, table.stem, 3, 2, act=nn.Hardswish, **bn)
        self.add_unit("stem", stem, {"out": FeatureSpec(table.stem, 2)})
        stride = self._add_blocks(table.blocks, 2, ACTIVATIONS.__getitem__, bn)
        self.add_unit(
            "final_conv",
            ConvBNAct(table.blocks[-1].out, table.final, 1, act=nn.Hardswish, **bn),
            {"out": FeatureSpec(table.final, stride)},
        )
        self.num_features, self.head_channels = table.final, table.head
        self.add_alias("C4", f"block{table.last_stage_start}.expand")
        self.add_alias("C5", "final_conv")
        self._alias_os8(os8_tap or table.os8_tap)
        self.finish_init(out_taps, weights, norm_eval, frozen_stages)


def mobilenet_v3_large(**options) -> MobileNetV3:
    """MobileNetV3-Large backbone (paper Table 1)."""
    return MobileNetV3("large", **options)


def mobilenet_v3_small(**options) -> MobileNetV3:
    """MobileNetV3-Small backbone (paper Table 2)."""
    return MobileNetV3("small", **options)
