"""Inference-only speed-ups for SSDLite (and any model built from ``Conv2d -> BatchNorm2d`` sequences).

* Conv-BN folding: in eval mode a BN is an affine map per channel, so it folds into the preceding convolution's
  weight and bias (``torch.nn.utils.fusion.fuse_conv_bn_eval``); the BN becomes ``nn.Identity``. Outputs are equal up
  to float rounding; the model can no longer be trained.
* channels-last memory format: oneDNN's CPU convolutions run without layout reorders.

On one CPU thread at 320x320 the two together make the SSDLite network about a third faster
(``tools/analysis/benchmark.py configs/ssdlite_mbv3_large.py --mode variants``).
"""
from __future__ import annotations

import torch
from torch import nn

from ..fuse import fuse_conv_bn


def optimize_for_inference(model: nn.Module, channels_last: bool = True) -> nn.Module:
    """Eval mode, conv-BN folding and (optionally) channels-last weights, in place; returns ``model``.

    A ``data_preprocessor`` with a ``channels_last`` flag (``ImagePreprocessor``) is switched along, so batches arrive
    in the same layout.
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
