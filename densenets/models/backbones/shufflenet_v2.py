"""ShuffleNet V2 (Ma et al., ECCV 2018, §3 and Table 5) with named taps.

The module layout is torchvision's (``conv1``, ``maxpool``, ``stage2``..``stage4``, ``conv5``; each unit has
``branch1`` / ``branch2`` sequentials with the same indices), so a torchvision ``shufflenet_v2_x*`` state_dict loads
by prefixing its keys with ``units.`` (``torchvision_weights.shufflenet_v2_keys``).
Taps: ``C4`` = stage3 output (OS 16), ``C5`` = conv5 output (OS 32, or 16 with ``output_stride=16``), ``OS8`` = stage2 output.
"""
from __future__ import annotations

from typing import Iterable

import torch
from torch import Tensor, nn

from ...registry import MODELS
from ..feature_spec import FeatureSpec
from .atrous import atrous_schedule
from .base import Backbone
from ..layers import ConvBNAct, channel_shuffle

# Table 5: output channels of conv1, stage2, stage3, stage4, conv5 for each width (the paper's "0.5x".."2x").
STAGE_OUT_CHANNELS: dict[float, tuple[int, int, int, int, int]] = {
    0.5: (24, 48, 96, 192, 1024),
    1.0: (24, 116, 232, 464, 1024),
    1.5: (24, 176, 352, 704, 1024),
    2.0: (24, 244, 488, 976, 2048),
}
STAGE_REPEATS = (4, 8, 4)  # Table 5: units per stage, the first of each with stride 2


class ShuffleV2Unit(nn.Module):
    """ShuffleNet V2 §3 building block (Fig. 3c basic unit, Fig. 3d spatial down-sampling unit).

    Basic unit: channel split in halves; one half passes through, the other goes 1x1 conv + BN + ReLU -> 3x3
    depthwise + BN -> 1x1 conv + BN + ReLU; concat; channel shuffle (2 groups). Down-sampling unit (``split=False``):
    no split, the left branch is 3x3 depthwise (stride) + BN -> 1x1 conv + BN + ReLU, output channels double.
    In the atrous form (output stride 16) the down-sampling unit keeps its two branches, with stride 1 (its
    ``dilation`` is set by the backbone's ``atrous_rule``).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        split: bool,
        stride: int = 1,
        dilation: int = 1,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
    ) -> None:
        super().__init__()
        if out_channels % 2:
            raise ValueError(f"ShuffleV2Unit: out_channels must be even, got {out_channels}")
        branch = out_channels // 2
        if split and in_channels != out_channels:
            raise ValueError(f"a basic (split) unit keeps its channels: in {in_channels} != out {out_channels}")
        self.split = split

        def bn(c: int) -> nn.BatchNorm2d:
            return nn.BatchNorm2d(c, eps=bn_eps, momentum=bn_momentum)

        def dw(c: int) -> nn.Conv2d:
            return nn.Conv2d(c, c, 3, stride, dilation, dilation=dilation, groups=c, bias=False)

        if not split:
            self.branch1 = nn.Sequential(
                dw(in_channels),
                bn(in_channels),
                nn.Conv2d(in_channels, branch, 1, bias=False),
                bn(branch),
                nn.ReLU(inplace=True),
            )
        self.branch2 = nn.Sequential(
            nn.Conv2d(branch if split else in_channels, branch, 1, bias=False),
            bn(branch),
            nn.ReLU(inplace=True),
            dw(branch),
            bn(branch),
            nn.Conv2d(branch, branch, 1, bias=False),
            bn(branch),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: Tensor) -> Tensor:
        if self.split:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


@MODELS.register_module()
class ShuffleNetV2(Backbone):
    """ShuffleNet V2 backbone (Ma et al. 2018, Table 5), widths 0.5x / 1x / 1.5x / 2x.

    Units ``conv1`` (3x3 s2, 24) -> ``maxpool`` (3x3 s2) -> ``stage2`` / ``stage3`` / ``stage4`` (4 / 8 / 4 units,
    the first with stride 2) -> ``conv5`` (1x1, 1024 or 2048). The classifier (global pool -> FC) is not part of the
    backbone. ``output_stride=16`` builds stage4 atrous: its down-sampling unit runs with stride 1; with
    ``atrous_rule="tf"`` (default; TF-slim ``mobilenet_base``'s rule, :mod:`.atrous` — ShuffleNet V2's paper and code
    define no atrous form, so the rule TF-slim, TF DeepLab and torchvision's ResNet share is used) that unit keeps
    dilation 1 and the 3 units after it get dilation 2 in their depthwise convs; ``"torchvision"`` gives the first
    unit dilation 2 as well (torchvision MobileNetV3 ``dilated=True``'s rule).
    ``weights`` is a torchvision-format (or densenets) checkpoint, loaded by
    :func:`.torchvision_weights.load_backbone_weights` (the classifier's ``fc.*`` keys are skipped).
    """

    arch = "shufflenet_v2"

    def __init__(
        self,
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
        if float(width_mult) not in STAGE_OUT_CHANNELS:
            raise ValueError(
                f"ShuffleNetV2: width_mult must be one of {sorted(STAGE_OUT_CHANNELS)} (paper Table 5), "
                f"got {width_mult}"
            )
        if output_stride not in (16, 32):
            raise ValueError(f"ShuffleNetV2: output_stride must be 16 or 32, got {output_stride}")
        self.width_mult = float(width_mult)
        self.output_stride = output_stride
        channels = STAGE_OUT_CHANNELS[self.width_mult]
        self.atrous_rule = atrous_rule
        bn = dict(bn_eps=bn_eps, bn_momentum=bn_momentum)
        # conv1, maxpool, then every unit (the first of each stage with stride 2): TF-slim's running-stride rule
        unit_strides = [s for repeats in STAGE_REPEATS for s in [2] + [1] * (repeats - 1)]
        schedule = atrous_schedule([2, 2] + unit_strides, output_stride, atrous_rule)[2:]

        self.add_unit("conv1", ConvBNAct(3, channels[0], 3, 2, **bn), {"out": FeatureSpec(channels[0], 2)})
        self.add_unit("maxpool", nn.MaxPool2d(3, 2, 1), {"out": FeatureSpec(channels[0], 4)})
        stride, in_ch = 4, channels[0]
        for idx, (repeats, out_ch) in enumerate(zip(STAGE_REPEATS, channels[1:4])):
            start = sum(STAGE_REPEATS[:idx])
            runs = schedule[start : start + repeats]
            stride *= runs[0].stride
            units = [ShuffleV2Unit(in_ch, out_ch, split=False, stride=runs[0].stride, dilation=runs[0].dilation, **bn)]
            units += [ShuffleV2Unit(out_ch, out_ch, split=True, dilation=run.dilation, **bn) for run in runs[1:]]
            self.add_unit(f"stage{idx + 2}", nn.Sequential(*units), {"out": FeatureSpec(out_ch, stride)})
            in_ch = out_ch
        self.add_unit("conv5", ConvBNAct(in_ch, channels[4], 1, **bn), {"out": FeatureSpec(channels[4], stride)})
        self.add_alias("OS8", "stage2")
        self.add_alias("C4", "stage3")
        self.add_alias("C5", "conv5")
        self.num_features = channels[4]
        self.finish_init(out_taps, weights, norm_eval, frozen_stages, freeze_norm)


__all__ = ["ShuffleNetV2", "ShuffleV2Unit", "STAGE_OUT_CHANNELS"]
