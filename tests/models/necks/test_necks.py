"""Every neck: built from a backbone's output_shape(), dict in, dict out, and declared == real for each map
(names in order, channels, spatial size ceil(input / stride)), on odd input sizes."""
from __future__ import annotations

import pytest
import torch

from densenets.models.backbones import build_backbone
from densenets.models.necks import FPN, Neck, SSDLiteExtraLayers

NECKS = {
    "fpn": lambda specs: FPN(specs, out_channels=32),
    "fpn_no_pool": lambda specs: FPN(specs, out_channels=16, extra_pool=False),
    "ssdlite_extra": lambda specs: SSDLiteExtraLayers(specs, width_mult=0.5),
}
BACKBONES = [("mobilenet_v3_small", dict(reduced_tail="detection")), ("shufflenet_v2", {}), ("mobilenet_v1", {})]


@pytest.mark.parametrize("neck_name", list(NECKS))
@pytest.mark.parametrize("name, options", BACKBONES, ids=[b[0] for b in BACKBONES])
def test_neck_declares_what_it_returns(neck_name, name, options):
    torch.manual_seed(0)
    backbone = build_backbone(name, out_taps=("C4", "C5"), **options).eval()
    neck = NECKS[neck_name](backbone.output_shape()).eval()
    assert isinstance(neck, Neck) and list(neck.in_specs) == ["C4", "C5"]
    height, width = 97, 161
    with torch.no_grad():
        out = neck(backbone(torch.zeros(1, 3, height, width)))
    specs = neck.output_shape()
    assert list(out) == list(specs)
    for key, spec in specs.items():
        assert tuple(out[key].shape[1:]) == (spec.channels, *spec.spatial(height, width)), key


def test_ssdlite_extra_layers_pass_the_backbone_taps_through():
    backbone = build_backbone("mobilenet_v3_small", out_taps=("C4", "C5")).eval()
    neck = SSDLiteExtraLayers(backbone.output_shape()).eval()
    assert list(neck.output_shape()) == ["C4", "C5", "extra1", "extra2", "extra3", "extra4"]
    assert [s.stride for s in neck.output_shape().values()] == [16, 32, 64, 128, 256, 512]
    with torch.no_grad():
        feats = backbone(torch.zeros(1, 3, 64, 64))
        out = neck(feats)
    assert out["C4"] is feats["C4"] and out["C5"] is feats["C5"]


def test_bad_inputs_are_rejected():
    backbone = build_backbone("mobilenet_v3_small", out_taps=("C4", "C5"))
    with pytest.raises(ValueError, match="fine to coarse"):
        FPN(dict(reversed(list(backbone.output_shape().items()))))
    with pytest.raises(ValueError, match="at least one input tap"):
        SSDLiteExtraLayers({})
