"""MobileNetV3-Large and -Small (Howard et al., 2019) with named taps, built from one architecture table.

:func:`mobilenet_v3_table` turns the paper's Table 1 (Large) / Table 2 (Small) into block rows for a width
multiplier, a reduced tail and an output stride, so every variant is built from its table, never patched afterwards.
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
from .mobilenet_base import REDUCED_TAILS, MobileNetBackbone, check_output_stride

class V3Bneck(NamedTuple):
    """One bneck row of MobileNetV3 Table 1 / Table 2 (torchvision's ``InvertedResidualConfig`` holds the same)."""

    kernel: int
    exp: int  # "exp size"
    out: int  # "#out"
    se: bool  # "SE"
    act: str  # "NL": "RE" (ReLU) or "HS" (h-swish)
    stride: int  # "s"


class V3Arch(NamedTuple):
    """Everything of one MobileNetV3 table besides its bnecks."""

    stem: int  # conv2d 3x3, stride 2
    bnecks: tuple[V3Bneck, ...]
    final: int  # the final 1x1 conv (C5)
    head: int  # the classifier's hidden 1x1 conv (NBN)
    os8_tap: str  # TF DeepLab's low-level (OS 8) feature


V3_LARGE_ROWS = (
    V3Bneck(3, 16, 16, False, "RE", 1),
    V3Bneck(3, 64, 24, False, "RE", 2),
    V3Bneck(3, 72, 24, False, "RE", 1),
    V3Bneck(5, 72, 40, True, "RE", 2),
    V3Bneck(5, 120, 40, True, "RE", 1),
    V3Bneck(5, 120, 40, True, "RE", 1),
    V3Bneck(3, 240, 80, False, "HS", 2),
    V3Bneck(3, 200, 80, False, "HS", 1),
    V3Bneck(3, 184, 80, False, "HS", 1),
    V3Bneck(3, 184, 80, False, "HS", 1),
    V3Bneck(3, 480, 112, True, "HS", 1),
    V3Bneck(3, 672, 112, True, "HS", 1),
    V3Bneck(5, 672, 160, True, "HS", 2),
    V3Bneck(5, 960, 160, True, "HS", 1),
    V3Bneck(5, 960, 160, True, "HS", 1),
)
V3_SMALL_ROWS = (
    V3Bneck(3, 16, 16, True, "RE", 2),
    V3Bneck(3, 72, 24, False, "RE", 2),
    V3Bneck(3, 88, 24, False, "RE", 1),
    V3Bneck(5, 96, 40, True, "HS", 2),
    V3Bneck(5, 240, 40, True, "HS", 1),
    V3Bneck(5, 240, 40, True, "HS", 1),
    V3Bneck(5, 120, 48, True, "HS", 1),
    V3Bneck(5, 144, 48, True, "HS", 1),
    V3Bneck(5, 288, 96, True, "HS", 2),
    V3Bneck(5, 576, 96, True, "HS", 1),
    V3Bneck(5, 576, 96, True, "HS", 1),
)
V3_ARCHS = {
    "large": V3Arch(stem=16, bnecks=V3_LARGE_ROWS, final=960, head=1280, os8_tap="block6.depthwise"),
    "small": V3Arch(stem=16, bnecks=V3_SMALL_ROWS, final=576, head=1024, os8_tap="block3.depthwise"),
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
    atrous_rule: str = "tf",
) -> V3Table:
    """Block rows of MobileNetV3-``arch`` ("large" | "small").

    * ``reduced_tail="detection"`` — V3 paper Table 6 "†" / TF-slim ``V3_LARGE_DETECTION`` /
      ``V3_SMALL_DETECTION`` (``nets/mobilenet/mobilenet_v3.py``: ``_reduce_consecutive_layers(V3_LARGE, 13, 16)``,
      i.e. conv_defs 13–16 = bnecks 13–15 and the final 1x1 conv): the last stage's output channels, hence the
      expansions after its first block (TF expands by a ratio of the input), and the final conv are halved (Large:
      out 160→80, exp 960→480, C5 960→480; C4 stays 672). The classifier's hidden 1x1 conv (conv_def 18, 1280 /
      1024) is outside that range, so it keeps its width — except under ``width_rule="torchvision"``, where it is
      halved as torchvision's ``_mobilenet_v3_conf`` does (``last_channel = adjust_channels(1280 // reduce_divider)``).
    * ``reduced_tail="segmentation"`` — TF DeepLab ``mobilenet_v3_*_seg``: also the first block's expansion
      (Large bneck 13 exp 672→336; Small bneck 9 exp 288→144).
    * ``output_stride=16`` — the stride-2 bneck of the last stage (Large 13, Small 9) gets stride 1 (V3 §6.4).
      ``atrous_rule="tf"`` (TF-slim ``mobilenet_base``, what TF DeepLab's ``mobilenet_v3_*_seg`` trained): that
      bneck keeps rate 1 and the bnecks after it get dilation 2; ``"torchvision"`` (``dilated=True``): it gets
      dilation 2 as well (:mod:`.atrous`).
    * ``width_mult`` α: block outputs, stem and final conv are ``make_divisible(c·α, 8)``. Expansions and the
      classifier width follow ``width_rule``: ``"paper"`` (the TF reference that produced the paper's Table 3:
      expansion = the row's ratio exp/in × the scaled input, classifier width kept at 1280 / 1024 for α < 1;
      Large 0.75 → 4.0M params, 155M MAdds) or ``"torchvision"`` (every width as torchvision's ``width_mult`` and
      ``reduced_tail`` compute it). Both rules give the same network at α = 1 without a reduced tail.
    SE squeeze width is ``make_divisible(exp/4, 8)`` (§5.3).
    """
    if arch not in V3_ARCHS:
        raise ValueError(f"MobileNetV3 arch must be one of {sorted(V3_ARCHS)}, got {arch!r}")
    if reduced_tail not in REDUCED_TAILS:
        raise ValueError(f"reduced_tail must be one of {REDUCED_TAILS}, got {reduced_tail!r}")
    check_output_stride(output_stride)
    if width_rule not in ("paper", "torchvision"):
        raise ValueError(f"width_rule must be 'paper' or 'torchvision', got {width_rule!r}")
    spec = V3_ARCHS[arch]
    last = max(i for i, row in enumerate(spec.bnecks) if row.stride == 2)
    divider = 2 if reduced_tail else 1
    # stem, the bnecks, the final 1x1 conv (TF conv_defs 0 .. 16 for Large)
    schedule = atrous_schedule([2] + [row.stride for row in spec.bnecks] + [1], output_stride, atrous_rule)[1:-1]

    def ch(c: float) -> int:
        return make_divisible(c * width_mult, 8)

    blocks: list[BlockRow] = []
    in_ch, in_base = ch(spec.stem), spec.stem
    for i, (row, layer) in enumerate(zip(spec.bnecks, schedule)):
        exp, out = row.exp, row.out
        if i >= last:
            out //= divider
            if i > last or reduced_tail == "segmentation":
                exp //= divider
        if width_rule == "torchvision":
            exp_ch = ch(exp)
        else:  # TF expand_input(exp / in): a ratio of the (scaled) input channels
            exp_ch = in_ch if exp == in_base else make_divisible(in_ch * exp / in_base, 8)
        se_ch = make_divisible(exp_ch // 4, 8) if row.se else None
        blocks.append(BlockRow(in_ch, row.kernel, exp_ch, ch(out), se_ch, row.act, layer.stride, layer.dilation))
        in_ch, in_base = ch(out), out
    if width_rule == "torchvision":
        head_ch = make_divisible(spec.head // divider * width_mult, 8)
    else:
        head_ch = make_divisible(spec.head * max(1.0, width_mult), 8)
    return V3Table(ch(spec.stem), tuple(blocks), ch(spec.final // divider), head_ch, last + 1, spec.os8_tap)


@MODELS.register_module()
class MobileNetV3(MobileNetBackbone):
    """MobileNetV3 (Howard et al., 2019; §5, Tables 1–2) with named taps.

    Units ``stem``, ``block1``..``block15`` (Large) / ``block11`` (Small), ``final_conv``. Aliases:
    ``C4`` = expansion output of bneck 13 (Large, 672 ch) / 9 (Small, 288 ch) at OS 16 (TF OD API
    ``layer_14/expansion_output`` / ``layer_10/expansion_output``); ``C5`` = ``final_conv`` (960 / 576 ch);
    ``OS8`` = TF DeepLab's low-level feature, the depthwise output of bneck 6 (Large, 120 ch) / 3 (Small, 88 ch) —
    pass ``os8_tap="block4.out"`` for torchvision's LR-ASPP choice. ``width_rule`` and ``atrous_rule``: see
    :func:`mobilenet_v3_table` (``"torchvision"`` to reproduce torchvision's networks: checkpoints built with
    ``width_mult`` ≠ 1, its reduced-tail classifier, its ``dilated=True`` segmentation backbones). BN defaults are
    torchvision's (eps 1e-3, momentum 0.01). ``num_features`` = C5 channels, ``head_channels`` = width of the classifier's hidden layer.
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
        weights: object = None,
        norm_eval: bool = False,
        freeze_norm: bool = False,
        frozen_stages: int = -1,
        atrous_rule: str = "tf",
    ) -> None:
        super().__init__()
        table = mobilenet_v3_table(arch, width_mult, reduced_tail, output_stride, width_rule, atrous_rule)
        self.atrous_rule = atrous_rule
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
        self.finish_init(out_taps, weights, norm_eval, frozen_stages, freeze_norm)


def mobilenet_v3_large(**options) -> MobileNetV3:
    """MobileNetV3-Large backbone (paper Table 1)."""
    return MobileNetV3("large", **options)


def mobilenet_v3_small(**options) -> MobileNetV3:
    """MobileNetV3-Small backbone (paper Table 2)."""
    return MobileNetV3("small", **options)
