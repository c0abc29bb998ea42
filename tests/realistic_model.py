"""Models with non-degenerate random weights for export parity checks.

A freshly initialised detector predicts almost the same score everywhere (its heads start near zero), which makes
NMS outputs a matter of tie-breaking. Re-initialising every layer the torchvision way and calibrating the BN
statistics on random images gives outputs that vary like a trained network's.
"""
from __future__ import annotations

import torch

from densenets.apis import build_model, load_config
from densenets.models.layers import init_weights


def realistic_model(config: str, shape: tuple[int, int], seed: int = 0):
    torch.manual_seed(seed)
    model = build_model(load_config(config))
    init_weights(model)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # cumulative average: the statistics of the calibration batches themselves
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(2, 3, *shape), mode="tensor")
    return model.eval()
