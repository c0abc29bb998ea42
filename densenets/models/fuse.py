"""Folding BatchNorm into the preceding convolution for inference and export — the one entry point.

In eval mode a BN is a per-channel affine map, so it folds into the convolution before it
(``torch.nn.utils.fusion.fuse_conv_bn_eval``) and becomes ``nn.Identity``. Outputs are equal up to float rounding;
the folded model can no longer be trained.

:func:`optimize_for_inference` is what every inference path calls — ONNX export, ExecuTorch export
(``densenets.deploy``), ``SSDLite.optimize_for_inference`` and the benchmark's fused mode
(``tools/analysis/benchmark.py --fused``); :func:`fuse_conv_bn` is the folding itself.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


def fuse_conv_bn(module: nn.Module) -> int:
    """Fold every ``BatchNorm2d`` that directly follows a ``Conv2d`` inside an ``nn.Sequential`` into that conv,
    in place (``module`` must be in eval mode). Returns the number of folded pairs."""
    if module.training:
        raise RuntimeError("fuse_conv_bn needs a model in eval mode (BN running statistics are folded)")
    fused = 0
    for seq in module.modules():
        if not isinstance(seq, nn.Sequential):
            continue
        for i in range(len(seq) - 1):
            conv, bn = seq[i], seq[i + 1]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                seq[i] = fuse_conv_bn_eval(conv, bn)
                seq[i + 1] = nn.Identity()
                fused += 1
    return fused


def optimize_for_inference(model: nn.Module, channels_last: bool = False) -> nn.Module:
    """Eval mode, conv-BN folding and (optionally) channels-last weights, in place; returns ``model``.

    channels-last lets oneDNN's CPU convolutions run without layout reorders (eager PyTorch on the CPU); exporters
    leave it off (the exported graph's layout is the runtime's business). A ``data_preprocessor`` with a
    ``channels_last`` flag (``ImagePreprocessor``) is switched along, so batches arrive in the same layout. The model
    is marked ``inference_only`` (detectors refuse ``mode="loss"`` afterwards).
    """
    model.eval()
    fuse_conv_bn(model)
    if channels_last:
        model.to(memory_format=torch.channels_last)
        preprocessor = getattr(model, "data_preprocessor", None)
        if preprocessor is not None and hasattr(preprocessor, "channels_last"):
            preprocessor.channels_last = True
    model.inference_only = True
    return model
