"""The whole LR-ASPP network in torchvision's form equals torchvision's, with shared weights.

torchvision's ``lraspp_mobilenet_v3_large`` = MobileNetV3-Large with dilated last stage (OS 16), the high feature
from the last conv, the low feature from bneck 4's output (40 ch, OS 8), a global-pool sigmoid gate without bias.
Ours takes that form with ``os8_tap='block4.out'``, ``pool_kernel=None``, ``gate_act='sigmoid'``,
``gate_bias=False``; torchvision's ``reduced_tail=True`` is our ``reduced_tail='detection'``.
"""
from __future__ import annotations

import pytest
import torch
from torchvision.models.mobilenetv3 import mobilenet_v3_large
from torchvision.models.segmentation.lraspp import _lraspp_mobilenetv3

from densenets.models.backbones.torchvision_weights import mobilenet_v3_keys
from densenets.models.segmentors import EncoderDecoder

TV_FORM_HEAD = dict(type="LRASPPHead", num_classes=19, channels=128, pool_kernel=None, gate_act="sigmoid",
                    gate_bias=False)


@pytest.mark.parametrize("reduced_tail", [False, True])
def test_lraspp_mobilenet_v3_large_parity(reduced_tail: bool) -> None:
    torch.manual_seed(0)
    tv = _lraspp_mobilenetv3(mobilenet_v3_large(reduced_tail=reduced_tail, dilated=True), num_classes=19).eval()
    ours = EncoderDecoder(
        dict(name="mobilenet_v3_large", reduced_tail="detection" if reduced_tail else None, output_stride=16,
             atrous_rule="torchvision", os8_tap="block4.out"),
        TV_FORM_HEAD,
    ).eval()
    n_tv = sum(p.numel() for p in tv.parameters())
    assert sum(p.numel() for p in ours.parameters()) == n_tv
    if not reduced_tail:
        # torchvision's published 3,221,538 is for 21 classes: two more 1x1 classifier outputs on 128 + 40 channels
        assert n_tv + 2 * (128 + 1 + 40 + 1) == 3_221_538

    for m in list(tv.modules()):  # non-trivial BN statistics so that a BN mix-up would show
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    # torchvision's backbone is an IntermediateLayerGetter over `features`: keys "0.0.weight", ...
    tv_backbone = tv.backbone.state_dict()
    key_map = mobilenet_v3_keys(ours.backbone)  # our key -> "features.<i>...."
    ours.backbone.load_state_dict({k: tv_backbone[v[len("features."):]] for k, v in key_map.items()})
    ours.decode_head.load_torchvision_state_dict(tv.classifier.state_dict())

    x = torch.randn(1, 3, 67, 99)
    with torch.no_grad():
        expected = tv(x)["out"]
        got = ours(x, mode="tensor")
    assert got.shape == expected.shape == (1, 19, 67, 99)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)
