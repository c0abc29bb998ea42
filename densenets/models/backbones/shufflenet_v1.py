"""ShuffleNet V1 (Zhang et al., CVPR 2018, §3.2-3.3 and Table 1) with named taps.

Taps: ``C4`` = stage3 output (OS 16), ``C5`` = stage4 output (OS 32, or 16 with ``output_stride=16``),
``OS8`` = stage2 output.

Channel rounding for the scale ``s`` ("ShuffleNet s×", §3.3): stage output channels are ``c·s`` rounded to a
multiple of ``4·g`` (so that the bottleneck ``out/4`` splits into ``g`` groups), conv1 is ``24·s`` rounded to a
multiple of ``g`` (so that the residual branch of the first unit, ``out − in`` channels, splits into ``g`` groups);
never below 90% of the unrounded value. Every Table 1 width (s = 1) is already such a multiple, so the paper's
channels are kept exactly; other scales (0.25 / 0.5 / 1.5 / 2) get the nearest valid width, e.g. g=8 0.5× has
conv1 16 (not 12) and g=4 0.5× stage2 144 (not 136).
"""
from __future__ import annotations

from typing import Iterable

import torch
from torch import Tensor, nn

from ...registry import MODELS
from ..feature_spec import FeatureSpec
from .atrous import atrous_schedule
from .base import Backbone
from ..layers import ConvBNAct, channel_shuffle, make_divisible

# Table 1: output channels of stage2 / stage3 / stage4 at 1x for each number of groups g.
STAGE_OUT_CHANNELS: dict[int, tuple[int, int, int]] = {
    1: (144, 288, 576),
    2: (200, 400, 800),
    3: (240, 480, 960),
    4: (272, 544, 1088),
    8: (384, 768, 1536),
}
STAGE_REPEATS = (4, 8, 4)  # Table 1: units per stage, the first of each with stride 2
STEM_CHANNELS = 24


class ShuffleV1Unit(nn.Module):
    """ShuffleNet §3.2 unit (Fig. 2b stride 1, Fig. 2c stride 2).

    1x1 group conv (bottleneck = out/4) + BN + ReLU -> channel shuffle -> 3x3 depthwise + BN -> 1x1 group conv + BN.
    Stride-1 unit: add the identity, then ReLU. Down-sampling unit (``downsample=True``): the shortcut is a 3x3
    average pool (stride 2; stride 1 in the atrous form), the residual branch outputs ``out - in`` channels and the
    two are concatenated, then ReLU. ``group_first=False`` is the first unit of stage 2, whose first pointwise conv is
    not grouped (its input has only 24·s channels).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        groups: int,
        downsample: bool,
        stride: int = 1,
        dilation: int = 1,
        group_first: bool = True,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
    ) -> None:
        super().__init__()
        bottleneck = out_channels // 4
        branch_out = out_channels - in_channels if downsample else out_channels
        if not downsample and in_channels != out_channels:
            raise ValueError(f"a stride-1 ShuffleNet unit keeps its channels: in {in_channels} != out {out_channels}")
        for name, c in (("bottleneck", bottleneck), ("residual-branch output", branch_out)):
            if c <= 0 or c % groups:
                raise ValueError(
                    f"ShuffleV1Unit({in_channels}->{out_channels}, g={groups}): {name} {c} not divisible by g"
                )
        bn = dict(bn_eps=bn_eps, bn_momentum=bn_momentum)
        self.groups = groups
        self.downsample = downsample
        self.compress = ConvBNAct(in_channels, bottleneck, 1, groups=groups if group_first else 1, **bn)
        self.depthwise = ConvBNAct(
            bottleneck, bottleneck, 3, stride, groups=bottleneck, dilation=dilation, act=None, **bn
        )
        self.expand = ConvBNAct(bottleneck, branch_out, 1, groups=groups, act=None, **bn)
        self.shortcut = nn.AvgPool2d(3, stride, 1) if downsample else None
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        out = self.compress(x)
        if self.groups > 1:
            out = channel_shuffle(out, self.groups)
        out = self.expand(self.depthwise(out))
        if self.shortcut is not None:
            out = torch.cat((self.shortcut(x), out), dim=1)
        else:
            out = out + x
        return self.relu(out)


def shufflenet_v1_channels(groups: int, width_mult: float) -> tuple[int, tuple[int, int, int]]:
    """conv1 and stage2..4 output channels for ``groups`` and scale ``width_mult`` (rounding: module docstring)."""
    if groups not in STAGE_OUT_CHANNELS:
        raise ValueError(
            f"ShuffleNetV1: groups must be one of {sorted(STAGE_OUT_CHANNELS)} (paper Table 1), got {groups}"
        )
    if not width_mult > 0:
        raise ValueError(f"ShuffleNetV1: width_mult must be > 0, got {width_mult}")
    stem = make_divisible(STEM_CHANNELS * width_mult, groups)
    stages = tuple(make_divisible(c * width_mult, 4 * groups) for c in STAGE_OUT_CHANNELS[groups])
    return stem, stages  # type: ignore[return-value]


@MODELS.register_module()
class ShuffleNetV1(Backbone):
    """ShuffleNet V1 backbone (Zhang et al. 2018, Table 1), ``groups`` 1/2/3/4/8, scale ``width_mult`` (s×).

    Units ``conv1`` (3x3 s2, 24·s, BN + ReLU) -> ``maxpool`` (3x3 s2) -> ``stage2`` / ``stage3`` / ``stage4``
    (4 / 8 / 4 units, the first of each a down-sampling unit). The classifier (global pool -> FC) is not part of the
    backbone. ``output_stride=16`` builds stage4 atrous: its first unit runs with stride 1 (its average-pool shortcut
    too); with ``atrous_rule="tf"`` (default; TF-slim ``mobilenet_base``'s rule, :mod:`.atrous` — ShuffleNet's paper
    and code define no atrous form, so the rule TF-slim, TF DeepLab and torchvision's ResNet share is used) that unit
    keeps dilation 1 and the 3 units after it get dilation 2 in their depthwise convs; ``"torchvision"`` gives the
    first unit dilation 2 as well (torchvision MobileNetV3 ``dilated=True``'s rule). ``weights`` is a densenets
    checkpoint of this backbone (torchvision has no ShuffleNet V1), loaded by
    :func:`.torchvision_weights.load_backbone_weights`.
    """

    arch = "shufflenet_v1"

    def __init__(
        self,
        groups: int = 3,
        width_mult: float = 1.0,
        out_taps: Iterable[str] = ("C4", "C5"),
        output_stride: int = 32,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
        norm_eval: bool = False,
        freeze_norm: bool = False,
        weights: object = None,
        frozen_stages: int = -1,
        atrous_rule: str = "tf",
    ) -> None:
        super().__init__()
        if output_stride not in (16, 32):
            raise ValueError(f"ShuffleNetV1: output_stride must be 16 or 32, got {output_stride}")
        stem, stages = shufflenet_v1_channels(groups, width_mult)
        self.groups = groups
        self.width_mult = float(width_mult)
        self.output_stride = output_stride
        self.atrous_rule = atrous_rule
        bn = dict(bn_eps=bn_eps, bn_momentum=bn_momentum)
        # conv1, maxpool, then every unit (the first of each stage with stride 2): TF-slim's running-stride rule
        unit_strides = [s for repeats in STAGE_REPEATS for s in [2] + [1] * (repeats - 1)]
        schedule = atrous_schedule([2, 2] + unit_strides, output_stride, atrous_rule)[2:]

        self.add_unit("conv1", ConvBNAct(3, stem, 3, 2, **bn), {"out": FeatureSpec(stem, 2)})
        self.add_unit("maxpool", nn.MaxPool2d(3, 2, 1), {"out": FeatureSpec(stem, 4)})
        stride, in_ch = 4, stem
        for idx, (repeats, out_ch) in enumerate(zip(STAGE_REPEATS, stages)):
            start = sum(STAGE_REPEATS[:idx])
            runs = schedule[start : start + repeats]
            stride *= runs[0].stride
            units = [
                ShuffleV1Unit(in_ch, out_ch, groups, downsample=True, stride=runs[0].stride, dilation=runs[0].dilation,
                              group_first=idx > 0, **bn)
            ]
            units += [ShuffleV1Unit(out_ch, out_ch, groups, downsample=False, dilation=run.dilation, **bn)
                      for run in runs[1:]]
            self.add_unit(f"stage{idx + 2}", nn.Sequential(*units), {"out": FeatureSpec(out_ch, stride)})
            in_ch = out_ch
        self.add_alias("OS8", "stage2")
        self.add_alias("C4", "stage3")
        self.add_alias("C5", "stage4")
        self.num_features = stages[2]
        self.finish_init(out_taps, weights, norm_eval, frozen_stages, freeze_norm)


__all__ = ["ShuffleNetV1", "ShuffleV1Unit", "STAGE_OUT_CHANNELS", "shufflenet_v1_channels"]
