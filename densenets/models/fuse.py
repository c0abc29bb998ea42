"""Folding BatchNorm into the preceding convolution for inference and export.

In eval mode a BN is a per-channel affine map, so it folds into the convolution before it
(``torch.nn.utils.fusion.fuse_conv_bn_eval``) and becomes ``nn.Identity``. Outputs are equal up to float rounding;
the folded model can no longer be trained.
"""
from __future__ import annotations

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
