"""LR-ASPP head: numeric parity with torchvision's LRASPPHead (shared weights, global pool) and the gate pooling."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torchvision.models.segmentation.lraspp import LRASPPHead as TVLRASPPHead

from densenets.models.feature_spec import FeatureSpec
from densenets.models.heads.lraspp_head import LRASPPHead


def _randomise_bn(module: torch.nn.Module, gen: torch.Generator) -> None:
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=gen) * 0.1)


@pytest.mark.parametrize("training", [False, True])
def test_matches_torchvision_with_shared_weights(training: bool) -> None:
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    ref = TVLRASPPHead(low_channels=40, high_channels=96, num_classes=19, inter_channels=32)
    _randomise_bn(ref, gen)
    ours = LRASPPHead(
        FeatureSpec(96, 16), FeatureSpec(40, 8), num_classes=19, channels=32,
        pool_kernel=None, gate_act="sigmoid", gate_bias=False,
    )
    ours.load_torchvision_state_dict(ref.state_dict())
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in ref.parameters())
    ref.train(training)
    ours.train(training)
    high = torch.randn(2, 96, 7, 9, generator=gen)
    low = torch.randn(2, 40, 13, 17, generator=gen)
    expected = ref({"high": high, "low": low})
    got = ours({"high": high, "low": low})
    assert got.shape == (2, 19, 13, 17)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def _head(**kw) -> LRASPPHead:
    torch.manual_seed(0)
    return LRASPPHead(FeatureSpec(8, 16), FeatureSpec(4, 8), num_classes=3, channels=6, **kw).eval()


def test_default_is_tf_deeplab_cityscapes_setting() -> None:
    head = _head()
    assert head.pool_kernel == (49, 49) and head.pool_stride == (4, 5)
    assert isinstance(head.gate_act, torch.nn.Hardsigmoid)
    assert head.gate_conv.bias is not None  # TF's image-pooling conv has no BN, so it has a bias


def test_pool_kernel_clips_to_small_maps() -> None:
    head = _head()
    x = torch.randn(1, 8, 5, 7)  # a demo-size map, far below 49x49
    torch.testing.assert_close(head.pool(x), x.mean(dim=(2, 3), keepdim=True))
    # clipped in one dimension only: global along H, 49-wide windows with stride 5 along W
    x = torch.randn(1, 8, 30, 128)
    pooled = head.pool(x)
    assert pooled.shape[-2:] == (1, (128 - 49) // 5 + 1)
    torch.testing.assert_close(pooled[..., 0, 3], x[..., :, 15:64].mean(dim=(2, 3)))


def test_pool_at_full_cityscapes_resolution() -> None:
    """1024x2048 input -> 64x128 OS-16 map -> 4x16 gate with the (49, 49) / (4, 5) pooling."""
    head = _head()
    x = torch.randn(1, 8, 64, 128)
    pooled = head.pool(x)
    assert pooled.shape[-2:] == ((64 - 49) // 4 + 1, (128 - 49) // 5 + 1) == (4, 16)
    torch.testing.assert_close(pooled[..., 2, 7], x[..., 8:57, 35:84].mean(dim=(2, 3)))
    # the gate is resized back to the map and multiplies the F branch
    out = head({"high": x, "low": torch.randn(1, 4, 128, 256)})
    assert out.shape == (1, 3, 128, 256)


@pytest.mark.parametrize("size", [(64, 128), (49, 49), (50, 60), (30, 128), (7, 9)])
def test_pool_equals_avg_pool2d_valid_windows(size: tuple[int, int]) -> None:
    head = _head()
    x = torch.randn(2, 8, *size, requires_grad=True)
    kernel = (min(49, size[0]), min(49, size[1]))
    expected = F.avg_pool2d(x, kernel, (4, 5))
    got = head.pool(x)
    torch.testing.assert_close(got, expected)
    (g1,) = torch.autograd.grad(got.sum(), x)
    (g2,) = torch.autograd.grad(expected.sum(), x)
    torch.testing.assert_close(g1, g2)


def test_global_pool_mode_and_gate_resize() -> None:
    head = _head(pool_kernel=None)
    x = torch.randn(2, 8, 64, 128)
    torch.testing.assert_close(head.pool(x), x.mean(dim=(2, 3), keepdim=True))
    # a strided gate is upsampled bilinearly: check against an explicit computation
    head = _head(pool_kernel=(16, 16), pool_stride=(16, 16))
    high, low = torch.randn(1, 8, 32, 32), torch.randn(1, 4, 64, 64)
    gate = torch.nn.functional.hardsigmoid(head.gate_conv(F.avg_pool2d(high, 16, 16)))
    gate = F.interpolate(gate, size=(32, 32), mode="bilinear", align_corners=False)
    x = F.interpolate(head.branch(high) * gate, size=(64, 64), mode="bilinear", align_corners=False)
    torch.testing.assert_close(head({"high": high, "low": low}), head.high_classifier(x) + head.low_classifier(low))


def test_bad_options_are_rejected() -> None:
    with pytest.raises(ValueError, match="gate_act"):
        _head(gate_act="relu")
    with pytest.raises(ValueError, match="coarser"):
        LRASPPHead(FeatureSpec(8, 8), FeatureSpec(4, 16), num_classes=3)
