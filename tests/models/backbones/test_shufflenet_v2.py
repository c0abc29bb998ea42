"""ShuffleNet V2: paper Table 5 figures, torchvision parity (features and logits), taps, atrous form."""
from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from densenets.analysis import count_complexity
from densenets.models.backbones.shufflenet_v2 import ShuffleNetV2
from densenets.models.classifier import ImageClassifier

# Paper Table 5 (MFLOPs = mult-adds at 224x224 with the classifier, params in M to one decimal) and torchvision's
# exact parameter counts of the same networks.
TABLE5 = {0.5: (41, 1.4, 1_366_792), 1.0: (146, 2.3, 2_278_604), 1.5: (299, 3.5, 3_503_624), 2.0: (591, 7.4, 7_393_996)}
TV_BUILDERS = {w: f"shufflenet_v2_x{str(w).replace('.', '_')}" for w in TABLE5}


def _randomise(model: nn.Module, seed: int) -> nn.Module:
    """Random weights *and* BN statistics, so that a parity check sees every tensor."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if t.is_floating_point():
                if name.endswith("running_var"):
                    t.copy_(torch.rand(t.shape, generator=gen) + 0.5)
                else:
                    t.copy_(torch.randn(t.shape, generator=gen) * 0.1)
    return model.eval()


@pytest.mark.parametrize("width", sorted(TABLE5))
def test_table5_figures(width: float) -> None:
    mflops, mparams, tv_params = TABLE5[width]
    c = count_complexity(ImageClassifier("shufflenet_v2", width_mult=width))
    assert c.params == tv_params
    assert round(c.params / 1e6, 1) == pytest.approx(mparams)
    assert abs(c.madds / 1e6 - mflops) / mflops < 0.02, c.madds


@pytest.mark.parametrize("width", sorted(TABLE5))
def test_c5_matches_torchvision_conv5(width: float) -> None:
    tv = _randomise(getattr(torchvision.models, TV_BUILDERS[width])(), seed=int(width * 10))
    ours = ShuffleNetV2(width_mult=width, out_taps=("OS8", "C4", "C5")).eval()
    from densenets.models.backbones.torchvision_weights import load_mapped, shufflenet_v2_keys

    assert load_mapped(ours, tv.state_dict(), shufflenet_v2_keys(ours), "tv", ("fc.",)).complete
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        s2 = tv.stage2(tv.maxpool(tv.conv1(x)))
        s3 = tv.stage3(s2)
        c5 = tv.conv5(tv.stage4(s3))
        outs = ours(x)
    for tap, ref in (("OS8", s2), ("C4", s3), ("C5", c5)):
        torch.testing.assert_close(outs[tap], ref, atol=1e-5, rtol=1e-5)


def test_torchvision_checkpoint_gives_its_logits(tmp_path) -> None:
    tv = _randomise(torchvision.models.shufflenet_v2_x0_5(), seed=3)
    path = tmp_path / "shufflenet_v2_x0_5.pth"
    torch.save(tv.state_dict(), path)
    model = ImageClassifier("shufflenet_v2", width_mult=0.5, weights=str(path)).eval()
    assert model.load_report.complete
    backbone = ShuffleNetV2(width_mult=0.5, weights=str(path)).eval()
    assert backbone.load_report.complete and backbone.load_report.skipped == ["fc.weight", "fc.bias"]
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), tv(x), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(backbone(x)["C5"], model.backbone(x)["C5"])


@pytest.mark.parametrize("output_stride", [32, 16])
def test_declared_specs_equal_real_on_odd_input(output_stride: int) -> None:
    backbone = ShuffleNetV2(width_mult=0.5, output_stride=output_stride)
    backbone.set_out_taps(tuple(backbone.feature_info))
    outs = backbone.eval()(torch.randn(1, 3, 225, 317))
    for tap, spec in backbone.output_shape().items():
        assert tuple(outs[tap].shape[1:]) == (spec.channels, *spec.spatial(225, 317)), tap
    info = backbone.feature_info
    assert (info["OS8"].stride, info["C4"].stride, info["C5"].stride) == (8, 16, output_stride)
    assert (info["OS8"].channels, info["C4"].channels, info["C5"].channels) == (48, 96, 1024)


def test_atrous_stage4_is_built_dilated_and_loads_the_same_weights() -> None:
    plain, atrous = ShuffleNetV2(), ShuffleNetV2(output_stride=16)
    first = atrous.units["stage4"][0]
    assert first.branch1[0].stride == (1, 1) and first.branch2[3].stride == (1, 1)
    # TF-slim's rule (the default): the de-strided unit keeps rate 1, the units after it get rate 2
    assert first.branch1[0].dilation == (1, 1) and first.branch2[3].dilation == (1, 1)
    dws = [u.branch2[3] for u in list(atrous.units["stage4"])[1:]]
    assert all(conv.dilation == (2, 2) and conv.padding == (2, 2) for conv in dws)
    tv_first = ShuffleNetV2(output_stride=16, atrous_rule="torchvision").units["stage4"][0]
    assert tv_first.branch1[0].dilation == (2, 2) and tv_first.branch2[3].dilation == (2, 2)
    assert all(u.branch2[3].dilation == (1, 1) for u in atrous.units["stage3"])
    assert {k: v.shape for k, v in plain.state_dict().items()} == {k: v.shape for k, v in atrous.state_dict().items()}


def test_basic_unit_passes_half_the_channels_through() -> None:
    unit = ShuffleNetV2(width_mult=0.5).units["stage3"][1].eval()
    x = torch.randn(1, 96, 5, 7)
    out = unit(x)
    torch.testing.assert_close(out[:, 0::2], x[:, :48])  # concat then shuffle(2): even channels = the first half


def test_forward_from_c4_and_norm_eval() -> None:
    backbone = ShuffleNetV2(width_mult=0.5, norm_eval=True).train()
    assert not any(m.training for m in backbone.modules() if isinstance(m, nn.BatchNorm2d))
    backbone.eval()
    outs = backbone(torch.randn(1, 3, 64, 64))
    torch.testing.assert_close(backbone.forward_from("C4", outs["C4"]), outs["C5"])


def test_bad_width_is_named() -> None:
    with pytest.raises(ValueError, match="width_mult must be one of"):
        ShuffleNetV2(width_mult=0.75)
    with pytest.raises(ValueError, match="output_stride"):
        ShuffleNetV2(output_stride=8)
