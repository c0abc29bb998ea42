"""Backbone options and errors: checkpoint-file errors, norm_eval, frozen_stages, forward_from, bad options,
the V2* tap, and building from the mmengine registry."""
from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from densenets.models.backbones import build_backbone
from densenets.models.backbones.mobilenet_v3 import mobilenet_v3_table
from densenets.models.classifier import ImageClassifier
from densenets.registry import MODELS


def test_not_a_checkpoint_is_a_clear_error(tmp_path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("these are not weights\n")
    with pytest.raises(ValueError, match=re.escape(str(text)) + ".*not a PyTorch checkpoint"):
        build_backbone("mobilenet_v3_small", weights=str(text))
    listing = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], listing)
    with pytest.raises(ValueError, match=re.escape(f"{listing}: expected a state_dict")):
        build_backbone("mobilenet_v3_small", weights=str(listing))
    mixed = tmp_path / "mixed.pth"
    torch.save({"features.0.0.weight": 3}, mixed)
    with pytest.raises(ValueError, match=re.escape(f"{mixed}: not a state_dict")):
        build_backbone("mobilenet_v3_small", weights=str(mixed))
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        build_backbone("mobilenet_v3_small", weights=str(tmp_path / "missing.pth"))


def test_own_checkpoint_round_trip(save_state) -> None:
    source = build_backbone("mobilenet_v1", out_taps=("C5",)).eval()
    path = save_state(source, "v1.pth")
    loaded = build_backbone("mobilenet_v1", out_taps=("C5",), weights=path).eval()
    assert loaded.load_report.complete
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x)["C5"], source(x)["C5"])
    # the backbone part of a whole-model checkpoint (keys "backbone.*") loads too
    model = ImageClassifier("mobilenet_v1").eval()
    from_model = build_backbone("mobilenet_v1", out_taps=("C5",), weights=save_state(model, "model.pth")).eval()
    assert from_model.load_report.complete
    with torch.no_grad():
        torch.testing.assert_close(from_model(x)["C5"], model.backbone(x)["C5"])


def test_norm_eval_and_frozen_stages() -> None:
    backbone = build_backbone("mobilenet_v2", norm_eval=True, frozen_stages=2).train()
    bns = [m for m in backbone.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and not any(bn.training for bn in bns)
    frozen = ("units.stem.", "units.block1.", "units.block2.")
    for name, p in backbone.named_parameters():
        assert p.requires_grad != name.startswith(frozen), name
    backbone = build_backbone("mobilenet_v3_large", frozen_stages=0).train()
    assert not backbone.units["stem"].training and backbone.units["block1"].training
    stats = backbone.units["stem"][1].running_mean.clone()
    backbone(torch.randn(2, 3, 64, 64))
    torch.testing.assert_close(backbone.units["stem"][1].running_mean, stats)


@pytest.mark.parametrize("name", ["mobilenet_v1", "mobilenet_v3_small"])
def test_forward_from_c4(name: str) -> None:
    backbone = build_backbone(name, out_taps=("C4", "C5")).eval()
    x = torch.randn(1, 3, 96, 64)
    with torch.no_grad():
        out = backbone(x)
        torch.testing.assert_close(backbone.forward_from("C4", out["C4"]), out["C5"])


def test_forward_from_inside_a_residual_block_is_refused() -> None:
    backbone = build_backbone("mobilenet_v3_small")  # bneck 3: stride 1, 24 -> 24, so it has a shortcut
    with pytest.raises(ValueError, match="residual"):
        backbone.forward_from("block3.expand", torch.zeros(1, 88, 8, 8))


def test_v2_star_tap_and_c4_only_forward() -> None:
    backbone = build_backbone("mobilenet_v2", out_taps=("C5_pre",), output_stride=16, reduced_tail="segmentation")
    spec = backbone.output_shape()["C5_pre"]
    assert (spec.channels, spec.stride) == (160, 16)
    assert backbone.resolve("C5_pre") == "block17.out"
    assert build_backbone("mobilenet_v2").feature_info["C5_pre"].channels == 320


def test_table_rows_follow_the_spec() -> None:
    seg = mobilenet_v3_table("large", reduced_tail="segmentation", output_stride=16)
    # TF DeepLab mobilenet_v3_large_seg at OS 16 (TF-slim mobilenet_base): bneck 13 de-strided at rate 1
    assert [(b.exp, b.out, b.stride, b.dilation) for b in seg.blocks[12:]] == [(336, 80, 1, 1), (480, 80, 1, 2),
                                                                             (480, 80, 1, 2)]
    assert seg.blocks[11].dilation == 1 and seg.final == 480
    det = mobilenet_v3_table("small", reduced_tail="detection")
    assert [(b.exp, b.out) for b in det.blocks[8:]] == [(288, 48), (288, 48), (288, 48)] and det.final == 288


@pytest.mark.parametrize(
    "name,options,error",
    [
        ("mobilenet_v1", {"reduced_tail": "detection"}, "no reduced tail"),
        ("mobilenet_v2", {"reduced_tail": "detection"}, "reduced_tail"),
        ("mobilenet_v3_large", {"reduced_tail": "rf2"}, "reduced_tail"),
        ("mobilenet_v3_large", {"output_stride": 8}, "output_stride"),
        ("mobilenet_v3_large", {"os8_tap": "block7.out"}, "output stride 16, not 8"),
        ("mobilenet_v3_small", {"frozen_stages": 20}, "frozen_stages"),
    ],
)
def test_bad_options(name: str, options: dict, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        build_backbone(name, **options)


def test_unknown_names() -> None:
    with pytest.raises(KeyError, match="mobilenet_v4"):
        build_backbone("mobilenet_v4")
    with pytest.raises(KeyError, match="no tap 'C6'"):
        build_backbone("mobilenet_v3_small", out_taps=("C6",))


def test_registry_build() -> None:
    backbone = MODELS.build(dict(type="MobileNetV3", arch="small", out_taps=("OS8", "C4")))
    assert [(s.channels, s.stride) for s in backbone.output_shape().values()] == [(88, 8), (288, 16)]
    assert type(MODELS.build(dict(type="MobileNetV2"))).__name__ == "MobileNetV2"
    assert type(MODELS.build(dict(type="MobileNetV1"))).__name__ == "MobileNetV1"


def test_reduced_tail_classifier_width_follows_the_source_cited() -> None:
    """TF-slim mobilenet_v3.py: V3_LARGE_DETECTION = _reduce_consecutive_layers(V3_LARGE, 13, 16) halves conv_defs
    13-16 only (bnecks 13-15, the 960 conv); the 1280 conv (conv_def 18) keeps its width. torchvision's
    reduced_tail=True halves it too: width_rule="torchvision"."""
    import torchvision

    assert mobilenet_v3_table("large", reduced_tail="detection").head == 1280
    assert mobilenet_v3_table("small", reduced_tail="detection").head == 1024
    for arch in ("large", "small"):
        tv = getattr(torchvision.models, f"mobilenet_v3_{arch}")(reduced_tail=True)
        assert mobilenet_v3_table(arch, reduced_tail="detection", width_rule="torchvision").head == \
            tv.classifier[0].out_features  # 640 / 512
        assert mobilenet_v3_table(arch, reduced_tail="detection").final == tv.classifier[0].in_features  # 480 / 288


def test_v1_activation_option() -> None:
    """ReLU (the paper's text) by default; ReLU6 (TF-slim mobilenet_v1_arg_scope) as an option."""
    acts = lambda b: {type(m) for m in b.modules() if isinstance(m, (torch.nn.ReLU, torch.nn.ReLU6))}  # noqa: E731
    assert acts(build_backbone("mobilenet_v1")) == {torch.nn.ReLU}
    assert acts(build_backbone("mobilenet_v1", activation="relu6")) == {torch.nn.ReLU6}
    with pytest.raises(ValueError, match="activation"):
        build_backbone("mobilenet_v1", activation="hswish")
