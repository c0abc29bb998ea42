"""ShuffleNet V1: paper Table 1 channels and FLOPs, valid groups for every scale, taps, atrous form, weights."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from densenets.analysis import count_complexity
from densenets.models.layers import channel_shuffle
from densenets.models.backbones.shufflenet_v1 import ShuffleNetV1, ShuffleV1Unit, shufflenet_v1_channels
from densenets.models.classifier import ImageClassifier

# Paper Table 1: stage2/3/4 output channels and complexity (MFLOPs = mult-adds, 224x224, with the classifier).
TABLE1 = {1: ((144, 288, 576), 143), 2: ((200, 400, 800), 140), 3: ((240, 480, 960), 137),
          4: ((272, 544, 1088), 133), 8: ((384, 768, 1536), 137)}


@pytest.mark.parametrize("groups", sorted(TABLE1))
def test_table1_channels_and_flops(groups: int) -> None:
    channels, mflops = TABLE1[groups]
    backbone = ShuffleNetV1(groups=groups, out_taps=("C5",))
    info = backbone.feature_info
    assert (info["OS8"], info["C4"], info["C5"]) == tuple(
        type(info["C5"])(c, s) for c, s in zip(channels, (8, 16, 32))
    )
    assert info["conv1.out"].channels == 24
    madds = count_complexity(ImageClassifier("shufflenet_v1", groups=groups)).madds
    assert abs(madds / 1e6 - mflops) / mflops < 0.02, (groups, madds)


def test_1x_g3_within_spec_range() -> None:
    madds = count_complexity(ImageClassifier("shufflenet_v1")).madds
    assert 137e6 * 0.98 <= madds <= 140e6 * 1.02


@pytest.mark.parametrize("groups", [1, 2, 3, 4, 8])
@pytest.mark.parametrize("width_mult", [0.25, 0.5, 1.5, 2.0])
def test_every_scale_has_valid_groups(groups: int, width_mult: float) -> None:
    stem, stages = shufflenet_v1_channels(groups, width_mult)
    assert stem % groups == 0 and all(c % (4 * groups) == 0 for c in stages)
    for c, base in zip(stages, TABLE1[groups][0]):
        assert 0.9 * base * width_mult <= c <= 1.1 * base * width_mult + 4 * groups
    backbone = ShuffleNetV1(groups=groups, width_mult=width_mult, out_taps=("C5",))
    assert backbone.eval()(torch.zeros(1, 3, 32, 32))["C5"].shape == (1, stages[2], 1, 1)


def test_channel_shuffle_matches_torchvision() -> None:
    from torchvision.models.shufflenetv2 import channel_shuffle as tv_shuffle

    x = torch.randn(2, 12, 3, 5)
    for g in (1, 2, 3, 4):
        assert torch.equal(channel_shuffle(x, g), tv_shuffle(x, g))


def test_units_follow_the_paper() -> None:
    backbone = ShuffleNetV1(groups=3)
    stage2, stage3 = backbone.units["stage2"], backbone.units["stage3"]
    assert [len(backbone.units[s]) for s in ("stage2", "stage3", "stage4")] == [4, 8, 4]
    assert stage2[0].compress[0].groups == 1  # the first pointwise conv of stage 2 is not grouped
    assert stage2[1].compress[0].groups == 3 and stage3[0].compress[0].groups == 3
    first = stage3[0]
    assert (first.compress[0].out_channels, first.expand[0].out_channels) == (480 // 4, 480 - 240)
    assert len(first.depthwise) == 2  # depthwise conv + BN, no ReLU


def test_downsampling_unit_concatenates_the_avgpool_shortcut() -> None:
    torch.manual_seed(0)
    unit = ShuffleV1Unit(24, 240, groups=3, downsample=True, stride=2, group_first=False).eval()
    x = torch.rand(1, 24, 9, 11)  # non-negative, like every unit's (post-ReLU) input
    out = unit(x)
    assert out.shape == (1, 240, 5, 6)
    torch.testing.assert_close(out[:, :24], F.avg_pool2d(x, 3, 2, 1))


def test_stride1_unit_adds_identity() -> None:
    unit = ShuffleV1Unit(48, 48, groups=2, downsample=False).eval()
    for m in unit.expand.modules():  # a zero residual branch leaves relu(x)
        if isinstance(m, nn.BatchNorm2d):
            nn.init.zeros_(m.weight)
    x = torch.randn(1, 48, 5, 5)
    torch.testing.assert_close(unit(x), x.relu())


@pytest.mark.parametrize("output_stride", [32, 16])
def test_declared_specs_equal_real_on_odd_input(output_stride: int) -> None:
    backbone = ShuffleNetV1(groups=8, width_mult=0.5, output_stride=output_stride)
    taps = tuple(backbone.feature_info)
    backbone.set_out_taps(taps)
    outs = backbone.eval()(torch.randn(1, 3, 225, 317))
    for tap, spec in backbone.output_shape().items():
        assert tuple(outs[tap].shape[1:]) == (spec.channels, *spec.spatial(225, 317)), tap
    assert backbone.feature_info["C5"].stride == output_stride


def test_atrous_stage4_is_built_dilated() -> None:
    plain, atrous = ShuffleNetV1(), ShuffleNetV1(output_stride=16)
    first = atrous.units["stage4"][0]
    assert first.depthwise[0].stride == (1, 1) and first.shortcut.stride == 1
    # TF-slim's rule (the default): the de-strided unit keeps rate 1, the units after it get rate 2
    assert [u.depthwise[0].dilation for u in atrous.units["stage4"]] == [(1, 1), (2, 2), (2, 2), (2, 2)]
    assert all(u.depthwise[0].dilation == (1, 1) for u in atrous.units["stage3"])
    tv_rule = ShuffleNetV1(output_stride=16, atrous_rule="torchvision")
    assert all(u.depthwise[0].dilation == (2, 2) for u in tv_rule.units["stage4"])
    assert {k: v.shape for k, v in plain.state_dict().items()} == {k: v.shape for k, v in atrous.state_dict().items()}


def test_forward_from_c4_reaches_c5() -> None:
    backbone = ShuffleNetV1(groups=2, width_mult=0.5).eval()
    x = torch.randn(1, 3, 64, 96)
    outs = backbone(x)
    torch.testing.assert_close(backbone.forward_from("C4", outs["C4"]), outs["C5"])


def test_norm_eval_keeps_bn_statistics() -> None:
    backbone = ShuffleNetV1(groups=1, width_mult=0.25, norm_eval=True).train()
    assert not any(m.training for m in backbone.modules() if isinstance(m, nn.BatchNorm2d))
    before = backbone.units["stage2"][0].compress[1].running_mean.clone()
    backbone(torch.randn(2, 3, 32, 32))
    torch.testing.assert_close(backbone.units["stage2"][0].compress[1].running_mean, before)


def test_weights_roundtrip_and_errors(tmp_path) -> None:
    torch.manual_seed(0)
    src = ShuffleNetV1(groups=4, width_mult=0.5).eval()
    for m in src.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
    path = tmp_path / "shufflenet_v1.pth"
    torch.save({"state_dict": src.state_dict()}, path)  # mmengine-style wrapping
    dst = ShuffleNetV1(groups=4, width_mult=0.5, weights=str(path)).eval()
    assert dst.load_report.complete
    x = torch.randn(1, 3, 64, 64)
    torch.testing.assert_close(dst(x)["C5"], src(x)["C5"])

    with pytest.warns(UserWarning, match="does not fit ShuffleNetV1"):
        other = ShuffleNetV1(groups=8, width_mult=0.5, weights=str(path))
    assert other.load_report.mismatched and not other.load_report.complete
    bad = tmp_path / "garbage.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="garbage.pth"):
        ShuffleNetV1(weights=str(bad))
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        ShuffleNetV1(weights=str(tmp_path / "missing.pth"))


def test_classifier_checkpoint_roundtrip(tmp_path) -> None:
    torch.manual_seed(1)
    src = ImageClassifier("shufflenet_v1", num_classes=5, groups=2, width_mult=0.25).eval()
    path = tmp_path / "classifier.pth"
    torch.save(src.state_dict(), path)
    dst = ImageClassifier("shufflenet_v1", num_classes=5, groups=2, width_mult=0.25, weights=str(path)).eval()
    assert dst.load_report.complete
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(dst(x), src(x))


def test_bad_options_are_named() -> None:
    with pytest.raises(ValueError, match="groups"):
        ShuffleNetV1(groups=5)
    with pytest.raises(ValueError, match="output_stride"):
        ShuffleNetV1(output_stride=8)
    with pytest.raises(KeyError, match="no tap 'C3'"):
        ShuffleNetV1(out_taps=("C3",))
