"""R-ASPP head: parity with torchvision's ASPP reduced to its 1x1 + image-pooling branches, dropout, layout."""
from __future__ import annotations

import torch
from torchvision.models.segmentation.deeplabv3 import ASPP

from densenets.models.feature_spec import FeatureSpec
from densenets.models.heads.raspp_head import RASPPHead


def _load_from_torchvision_aspp(head: RASPPHead, aspp: ASPP, classifier: torch.nn.Conv2d) -> None:
    """torchvision concatenates [1x1 branch, pooling]; TF DeepLab (and RASPPHead) [pooling, 1x1 branch]."""
    f = head.branch[0].out_channels
    state = {}
    branch, pooling = aspp.convs  # Sequential(conv, bn, relu), ASPPPooling(avgpool, conv, bn, relu)
    for name, conv, bn in (("branch", branch[0], branch[1]), ("image_pool", pooling[1], pooling[2])):
        state[f"{name}.0.weight"] = conv.weight
        for k in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
            state[f"{name}.1.{k}"] = getattr(bn, k)
    w = aspp.project[0].weight
    state["project.0.weight"] = torch.cat([w[:, f:], w[:, :f]], dim=1)
    for k in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
        state[f"project.1.{k}"] = getattr(aspp.project[1], k)
    state["classifier.weight"] = classifier.weight
    state["classifier.bias"] = classifier.bias
    head.load_state_dict(state)


def test_matches_torchvision_aspp_without_atrous_branches() -> None:
    torch.manual_seed(0)
    aspp = ASPP(48, atrous_rates=(), out_channels=16)
    classifier = torch.nn.Conv2d(16, 5, 1)
    for m in aspp.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.1)
    head = RASPPHead(FeatureSpec(48, 16), num_classes=5, channels=16)
    _load_from_torchvision_aspp(head, aspp, classifier)
    assert sum(p.numel() for p in head.parameters()) == sum(
        p.numel() for p in list(aspp.parameters()) + list(classifier.parameters())
    )
    aspp.eval()
    head.eval()
    x = torch.randn(2, 48, 6, 10)
    expected = classifier(aspp(x))
    got = head({"high": x})
    assert got.shape == (2, 5, 6, 10)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_tf_layout_and_dropout() -> None:
    head = RASPPHead(FeatureSpec(32, 16), num_classes=4, channels=8)
    convs = [m for m in head.modules() if isinstance(m, torch.nn.Conv2d)]
    # image pooling, 1x1 branch, projection: no bias (BN follows); logits: bias, no BN
    assert [c.bias is not None for c in convs] == [False, False, False, True]
    assert isinstance(head.dropout, torch.nn.Dropout) and head.dropout.p == 0.1  # TF keep_prob 0.9
    x = torch.randn(2, 32, 4, 4)
    head.eval()
    torch.testing.assert_close(head({"high": x}), head({"high": x}))
    head.train()
    torch.manual_seed(0)
    a = head({"high": x})
    torch.manual_seed(1)
    assert not torch.allclose(a, head({"high": x}))  # dropout is active in training only
    assert isinstance(RASPPHead(FeatureSpec(32, 16), 4, 8, dropout=0.0).dropout, torch.nn.Identity)
