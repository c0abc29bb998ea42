"""No weight decay on BatchNorm and biases; full decay on every conv weight, depthwise included (TF's L2 regularizer).

Checked on a real backbone (MobileNetV3-Large: depthwise convs, SE convs with biases, BN) with the optimizer that
mmengine builds from the configs' ``optim_wrapper``.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from torch import nn

from densenets.models import build_backbone

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = [ROOT / "tests/engine/tiny_config.py", ROOT / "configs/_base_/schedules/ssdlite_cosine.py"]


def _decay_by_param(optim_wrapper) -> dict[int, float]:
    return {id(p): g["weight_decay"] for g in optim_wrapper.optimizer.param_groups for p in g["params"]}


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_no_decay_on_norm_and_bias(config):
    cfg = Config.fromfile(str(config))
    base_wd = cfg.optim_wrapper.optimizer.weight_decay
    assert base_wd > 0
    model = build_backbone("mobilenet_v3_large")
    decay = _decay_by_param(build_optim_wrapper(model, cfg.optim_wrapper))
    assert len(decay) == len(list(model.parameters()))

    seen = {"norm": 0, "bias": 0, "conv": 0, "depthwise": 0}
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            for p in module.parameters(recurse=False):
                assert decay[id(p)] == 0.0
                seen["norm"] += 1
        elif isinstance(module, nn.Conv2d):
            assert decay[id(module.weight)] == pytest.approx(base_wd)
            seen["depthwise" if module.groups == module.in_channels > 1 else "conv"] += 1
            if module.bias is not None:
                assert decay[id(module.bias)] == 0.0
                seen["bias"] += 1
    assert all(seen.values()), seen  # the backbone really has BN, conv biases (SE), depthwise and plain convs
