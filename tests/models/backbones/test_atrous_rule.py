"""Stride and dilation of every depthwise conv at output stride 16 / 32, under both atrous rules, against tables
written from the reference code (not from our output):

* TF rule — TF-slim ``nets/mobilenet/mobilenet.py`` ``mobilenet_base`` (V2, V3) and ``nets/mobilenet_v1.py``
  ``mobilenet_v1_base``: ``if current_stride == output_stride: layer_stride = 1; layer_rate = rate; rate *= stride``.
  The layers' nominal strides are those of the conv_defs there (``V2_DEF``, ``V3_LARGE``, ``V3_SMALL``,
  ``MOBILENETV1_CONV_DEFS``).
* torchvision rule — torchvision ``models/mobilenetv3.py`` ``_mobilenet_v3_conf(dilated=True)``: the last stage's
  bnecks (Large 13-15, Small 9-11) all get dilation 2, the stride-2 one runs with stride 1.
"""
from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from densenets.models.backbones import build_backbone

# Nominal depthwise strides, one per block, read off the TF conv_defs (stem excluded; every stem has stride 2).
TF_DEPTHWISE_STRIDES = {
    # MOBILENETV1_CONV_DEFS: DepthSepConv Conv2d_1 .. Conv2d_13
    "mobilenet_v1": "1 2 1 2 1 2 1 1 1 1 1 2 1",
    # V2_DEF: expanded_conv (16), 24 s2, 24, 32 s2, 32, 32, 64 s2, 64 x3, 96 x3, 160 s2, 160 x2, 320
    "mobilenet_v2": "1 2 1 2 1 1 2 1 1 1 1 1 1 2 1 1 1",
    # V3_LARGE: bnecks 1 .. 15
    "mobilenet_v3_large": "1 2 1 2 1 1 2 1 1 1 1 1 2 1 1",
    # V3_SMALL: bnecks 1 .. 11
    "mobilenet_v3_small": "2 2 1 2 1 1 1 1 2 1 1",
}
# (stride, dilation) of every depthwise conv at OS 16, written out by hand from the rules above. "s1" = stride 1,
# rate 1; "s2" = stride 2; "d2" = stride 1, dilation 2.
EXPECTED_OS16 = {
    ("mobilenet_v1", "tf"): "s1 s2 s1 s2 s1 s2 s1 s1 s1 s1 s1 s1 d2",
    ("mobilenet_v1", "torchvision"): "s1 s2 s1 s2 s1 s2 s1 s1 s1 s1 s1 d2 d2",
    ("mobilenet_v2", "tf"): "s1 s2 s1 s2 s1 s1 s2 s1 s1 s1 s1 s1 s1 s1 d2 d2 d2",
    ("mobilenet_v2", "torchvision"): "s1 s2 s1 s2 s1 s1 s2 s1 s1 s1 s1 s1 s1 d2 d2 d2 d2",
    ("mobilenet_v3_large", "tf"): "s1 s2 s1 s2 s1 s1 s2 s1 s1 s1 s1 s1 s1 d2 d2",
    ("mobilenet_v3_large", "torchvision"): "s1 s2 s1 s2 s1 s1 s2 s1 s1 s1 s1 s1 d2 d2 d2",
    ("mobilenet_v3_small", "tf"): "s2 s2 s1 s2 s1 s1 s1 s1 s1 d2 d2",
    ("mobilenet_v3_small", "torchvision"): "s2 s2 s1 s2 s1 s1 s1 s1 d2 d2 d2",
}
CODES = {"s1": (1, 1), "s2": (2, 1), "d2": (1, 2)}


def _depthwise(backbone: nn.Module) -> list[tuple[int, int]]:
    """(stride, dilation) of each unit's depthwise conv, in execution order (the stem is not depthwise)."""
    out = []
    for name, unit in backbone.units.items():
        if name == "stem" or name == "final_conv":
            continue
        conv = unit.depthwise[0]
        assert conv.groups == conv.in_channels > 1 and conv.kernel_size[0] > 1, name
        assert conv.padding[0] == conv.dilation[0] * (conv.kernel_size[0] - 1) // 2, f"{name}: not 'same' padding"
        out.append((conv.stride[0], conv.dilation[0]))
    return out


@pytest.mark.parametrize("name,rule", list(EXPECTED_OS16), ids=[f"{n}-{r}" for n, r in EXPECTED_OS16])
def test_depthwise_stride_and_dilation_at_os16(name: str, rule: str) -> None:
    backbone = build_backbone(name, output_stride=16, atrous_rule=rule, out_taps=("C5",))
    assert _depthwise(backbone) == [CODES[c] for c in EXPECTED_OS16[(name, rule)].split()]
    assert backbone.feature_info["C5"].stride == 16


@pytest.mark.parametrize("name", list(TF_DEPTHWISE_STRIDES))
@pytest.mark.parametrize("rule", ["tf", "torchvision"])
def test_os32_has_the_nominal_strides_and_no_dilation(name: str, rule: str) -> None:
    backbone = build_backbone(name, atrous_rule=rule, out_taps=("C5",))
    assert _depthwise(backbone) == [(int(s), 1) for s in TF_DEPTHWISE_STRIDES[name].split()]


def test_torchvision_rule_is_torchvision_dilated_v3() -> None:
    """The torchvision option reproduces torchvision's own dilated=True modules (read from torchvision, not ours)."""
    for name in ("mobilenet_v3_large", "mobilenet_v3_small"):
        tv = getattr(torchvision.models, name)(dilated=True)
        convs = [m for m in tv.features.modules() if isinstance(m, nn.Conv2d) and m.groups == m.in_channels > 1]
        tv_dw = [(m.stride[0], m.dilation[0]) for m in convs]
        ours = build_backbone(name, output_stride=16, atrous_rule="torchvision", out_taps=("C5",))
        assert _depthwise(ours) == tv_dw
        assert _depthwise(build_backbone(name, output_stride=16, out_taps=("C5",))) != tv_dw  # the TF default differs


def test_same_weights_under_both_rules_and_output_size() -> None:
    """Dilation changes neither the parameters nor the output size, only which pixels a depthwise conv reads."""
    torch.manual_seed(0)
    tf_rule = build_backbone("mobilenet_v3_large", output_stride=16, out_taps=("C5",)).eval()
    tv_rule = build_backbone("mobilenet_v3_large", output_stride=16, atrous_rule="torchvision", out_taps=("C5",))
    tv_rule.load_state_dict(tf_rule.state_dict())
    x = torch.randn(1, 3, 96, 96)
    with torch.no_grad():
        a, b = tf_rule(x)["C5"], tv_rule.eval()(x)["C5"]
    assert a.shape == b.shape == (1, 960, 6, 6)
    assert not torch.allclose(a, b)


def test_bad_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="atrous_rule"):
        build_backbone("mobilenet_v2", output_stride=16, atrous_rule="dilate_all")
