"""Exact numeric cross-checks against torchvision with shared weights (random init, eval mode): C5 and logits,
the C4 / OS8 taps at the right tensors, the atrous and reduced-tail variants, width multipliers, and reports of
keys that do not fit."""
from __future__ import annotations

import pytest
import torch
import torchvision
from torch import Tensor, nn

from densenets.models.backbones import build_backbone
from densenets.models.classifier import ImageClassifier

X_SIZE = (2, 3, 97, 65)


def _capture(module: nn.Module) -> dict[str, Tensor]:
    box: dict[str, Tensor] = {}
    module.register_forward_hook(lambda m, i, o: box.__setitem__("out", o.clone()))
    return box


def _close(a: Tensor, b: Tensor) -> None:
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


# name, torchvision module whose output is C4, torchvision module whose output is OS8 (TF DeepLab choice)
TAPS = {
    "mobilenet_v3_large": (lambda tv: tv.features[13].block[0], lambda tv: tv.features[6].block[1]),
    "mobilenet_v3_small": (lambda tv: tv.features[9].block[0], lambda tv: tv.features[3].block[1]),
    "mobilenet_v2": (lambda tv: tv.features[14].conv[0], lambda tv: tv.features[6].conv[1]),
}


@pytest.mark.parametrize("name", sorted(TAPS))
def test_classifier_and_taps_match_torchvision(name: str, save_state) -> None:
    torch.manual_seed(0)
    tv = getattr(torchvision.models, name)().eval()
    path = save_state(tv)
    ours = ImageClassifier(name, weights=path).eval()
    assert ours.load_report.complete and not ours.load_report.skipped
    backbone = build_backbone(name, weights=path, out_taps=("C4", "OS8", "C5")).eval()
    assert backbone.load_report.complete
    assert sorted(backbone.load_report.skipped) == sorted(k for k in tv.state_dict() if k.startswith("classifier."))

    c4_ref, os8_ref = (_capture(get(tv)) for get in TAPS[name])
    x = torch.randn(*X_SIZE)
    with torch.no_grad():
        logits_ref, c5_ref = tv(x), tv.features(x)
        feats, logits = backbone(x), ours(x)
    _close(logits, logits_ref)
    _close(feats["C5"], c5_ref)
    _close(feats["C4"], c4_ref["out"])
    _close(feats["OS8"], os8_ref["out"])
    # the Faster R-CNN C4 form: continuing from C4 gives C5
    with torch.no_grad():
        _close(backbone.forward_from("C4", feats["C4"]), c5_ref)


# torchvision's dilated=True is our atrous_rule="torchvision"; its reduced_tail halves the classifier width, which our
# width_rule="torchvision" does (the TF defaults differ: see test_atrous_rule.py and test_mobilenet_options.py).
TV_ATROUS = {"output_stride": 16, "atrous_rule": "torchvision"}
TV_TAIL = {"reduced_tail": "detection", "width_rule": "torchvision"}
VARIANTS = [
    ("mobilenet_v3_large", TV_ATROUS, {"dilated": True}),
    ("mobilenet_v3_small", TV_ATROUS, {"dilated": True}),
    ("mobilenet_v3_large", TV_TAIL, {"reduced_tail": True}),
    ("mobilenet_v3_small", {**TV_TAIL, **TV_ATROUS}, {"reduced_tail": True, "dilated": True}),
    ("mobilenet_v3_large", {"width_mult": 0.75, "width_rule": "torchvision"}, {"width_mult": 0.75}),
    ("mobilenet_v2", {"width_mult": 0.5}, {"width_mult": 0.5}),
    ("mobilenet_v2", {"width_mult": 1.4}, {"width_mult": 1.4}),
]


@pytest.mark.parametrize("name,ours_opts,tv_opts", VARIANTS, ids=[f"{n}-{o}" for n, o, _ in VARIANTS])
def test_variants_match_torchvision(name: str, ours_opts: dict, tv_opts: dict, save_state) -> None:
    torch.manual_seed(0)
    tv = getattr(torchvision.models, name)(**tv_opts).eval()
    path = save_state(tv)
    ours = ImageClassifier(name, weights=path, **ours_opts).eval()
    assert ours.load_report.complete
    x = torch.randn(*X_SIZE)
    with torch.no_grad():
        _close(ours.backbone(x)["C5"], tv.features(x))
        _close(ours(x), tv(x))


@pytest.mark.parametrize("name,first,tail", [("mobilenet_v3_large", 13, 15), ("mobilenet_v3_small", 9, 11)])
def test_segmentation_tail_mismatch_is_reported_by_name(name: str, first: int, tail: int, save_state) -> None:
    tv = getattr(torchvision.models, name)()
    path = save_state(tv)
    with pytest.warns(UserWarning, match=f"units.block{first}.expand.0.weight"):
        backbone = build_backbone(name, weights=path, reduced_tail="segmentation")
    report = backbone.load_report
    mismatched = {ours: theirs for ours, theirs, _, _ in report.mismatched}
    assert mismatched[f"units.block{first}.expand.0.weight"] == f"features.{first}.block.0.0.weight"
    assert mismatched["units.final_conv.0.weight"] == f"features.{tail + 1}.0.weight"
    assert not any(k.startswith(f"units.block{first - 1}.") for k in mismatched)  # the untouched part loaded
    assert f"units.block{first - 1}.project.0.weight" in report.loaded
    assert not report.complete and not report.missing and not report.unexpected


def test_v2_rf2_mismatch_is_reported_by_name(save_state) -> None:
    path = save_state(torchvision.models.mobilenet_v2())
    with pytest.warns(UserWarning, match="units.block14.project.0.weight"):
        backbone = build_backbone("mobilenet_v2", weights=path, reduced_tail="segmentation")
    mismatched = {ours for ours, *_ in backbone.load_report.mismatched}
    assert "units.block14.expand.0.weight" not in mismatched  # C4 (576 ch) keeps its weights
    halved = {"units.block14.project.0.weight", "units.block17.project.0.weight", "units.final_conv.0.weight"}
    assert halved <= mismatched
