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


def calibrate_torchvision_detector(tv, images) -> None:
    """A fresh torchvision detector, made to rank like a trained one: its backbone BN statistics are those of
    ``images`` (uint8 CHW; fresh statistics shrink the features to ~1e-8 and every score ties), and its heads' scores
    and box deltas are spread (drawn from the global RNG) so that ranking and NMS have no near-ties."""
    for m in tv.backbone.body.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None  # cumulative average: the statistics of the calibration images themselves
    with torch.no_grad():
        tv.backbone.body.train()
        for image in images:
            tv.backbone.body(tv.transform([image.float() / 255])[0].tensors)
        tv.backbone.body.eval()
        for layer in (tv.rpn.head.cls_logits, tv.roi_heads.box_predictor.cls_score):
            layer.weight.normal_(0, 0.5)
        for layer in (tv.rpn.head.bbox_pred, tv.roi_heads.box_predictor.bbox_pred):
            layer.weight.normal_(0, 0.05)
