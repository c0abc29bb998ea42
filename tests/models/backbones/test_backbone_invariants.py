"""One invariant test over every registered backbone and its option combinations: declared FeatureSpecs of every
tap (aliases and canonical ``unit.point`` names) == real channels and ceil(input / stride) spatial size, in train
and eval mode, with gradients reaching the input."""
from __future__ import annotations

import pytest
import torch

from densenets.models.backbones import BACKBONES, build_backbone

SMALL = (65, 97)
ODD = (225, 317)

# Option combinations per backbone name (names not listed here are checked with their defaults).
_V3 = [
    {},
    {"output_stride": 16},
    {"reduced_tail": "detection"},
    {"reduced_tail": "segmentation", "output_stride": 16},
    {"reduced_tail": "segmentation"},
    {"width_mult": 0.5},
    {"width_mult": 0.35, "reduced_tail": "detection", "output_stride": 16},
    {"width_mult": 0.75, "width_rule": "torchvision"},
]
OPTIONS: dict[str, list[dict]] = {
    "mobilenet_v3_large": _V3 + [{"os8_tap": "block4.out"}],
    "mobilenet_v3_small": _V3,
    "mobilenet_v2": [
        {},
        {"output_stride": 16},
        {"reduced_tail": "segmentation", "output_stride": 16},
        {"width_mult": 0.5, "reduced_tail": "segmentation", "output_stride": 16},
        {"width_mult": 0.35},
    ],
    "mobilenet_v1": [{}, {"output_stride": 16}, {"width_mult": 0.5}],
    "shufflenet_v1": [{}, {"output_stride": 16}, {"groups": 8, "width_mult": 0.5}, {"groups": 1}],
    "shufflenet_v2": [{}, {"output_stride": 16}, {"width_mult": 2.0}],
}

CASES = [(name, opts, SMALL) for name in BACKBONES for opts in OPTIONS.get(name, [{}])]
CASES += [(name, {}, ODD) for name in BACKBONES]


def _id(case: tuple) -> str:
    name, opts, size = case
    return f"{name}-{'-'.join(f'{k}={v}' for k, v in opts.items()) or 'default'}-{size[0]}x{size[1]}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_declared_specs_match_tensors(case: tuple) -> None:
    name, opts, (h, w) = case
    torch.manual_seed(0)
    backbone = build_backbone(name, **opts)
    for alias in ("C4", "C5"):
        assert alias in backbone.feature_info, f"{name} lacks the {alias} alias"
    if opts.get("output_stride") == 16:
        assert backbone.feature_info["C5"].stride == 16
    backbone.set_out_taps(list(backbone.feature_info))  # every alias and every unit.point
    specs = backbone.output_shape()
    x = torch.randn(2, 3, h, w, requires_grad=True)
    for mode in ("train", "eval"):
        backbone.train(mode == "train")
        with torch.set_grad_enabled(mode == "train"):
            out = backbone(x)
        assert list(out) == list(specs)
        for tap, tensor in out.items():
            spec = specs[tap]
            assert tensor.shape[1] == spec.channels, f"{name} {opts} {tap}: {tensor.shape[1]} ch, declared {spec}"
            assert tuple(tensor.shape[2:]) == spec.spatial(h, w), f"{name} {opts} {tap}: {tensor.shape} vs {spec}"
        if mode == "train":
            sum(t.float().mean() for t in out.values()).backward()
            assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
