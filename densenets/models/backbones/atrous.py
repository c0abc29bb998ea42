"""Where a backbone trades stride for dilation to reach a target output stride (semantic segmentation at OS 16).

Atrous rule (``atrous_rule``), for a target ``output_stride`` below the network's own:

* ``"tf"`` (default) — TF-slim ``nets/mobilenet/mobilenet.py`` ``mobilenet_base`` and ``nets/mobilenet_v1.py``
  ``mobilenet_v1_base``: once the running stride equals ``output_stride``, a layer that would have stride ``s``
  runs with stride 1 and the *current* rate (``layer_rate = rate``), and only then the rate is multiplied
  (``rate *= s``). So the de-strided layer keeps rate 1 and only the layers after it get rate 2 at OS 16. TF
  DeepLab's ``mobilenet_v2`` / ``mobilenet_v3_*_seg`` and TF-slim V1 are built this way (torchvision's ResNet
  ``replace_stride_with_dilation`` follows the same rule).
* ``"torchvision"`` — torchvision ``models/mobilenetv3.py`` ``dilated=True``: the de-strided layer gets the new
  rate as well (the whole last stage has dilation 2). Use it to reproduce torchvision's MobileNetV3 outputs or to load
  its segmentation weights.

ShuffleNet V1 / V2 follow the same rule (their papers and official code have no atrous form; the TF rule is the
one TF-slim, TF DeepLab and torchvision's ResNet share, so it is the default there too).
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

ATROUS_RULES = ("tf", "torchvision")


class AtrousLayer(NamedTuple):
    """Stride and dilation (rate) a layer runs with under an output-stride target."""

    stride: int
    dilation: int


def atrous_schedule(strides: Sequence[int], output_stride: int | None, rule: str = "tf") -> list[AtrousLayer]:
    """Stride and dilation of every layer (``strides``: the nominal strides, in execution order, stem first) so that
    the running stride never exceeds ``output_stride`` (``None``: no target). ``rule``: module docstring."""
    if rule not in ATROUS_RULES:
        raise ValueError(f"atrous_rule must be one of {ATROUS_RULES}, got {rule!r}")
    current, rate = 1, 1
    out: list[AtrousLayer] = []
    for s in strides:
        if output_stride is not None and current == output_stride:
            layer_rate = rate if rule == "tf" else rate * s
            rate *= s
            out.append(AtrousLayer(1, layer_rate))
        else:
            current *= s
            out.append(AtrousLayer(s, 1))
    return out


__all__ = ["ATROUS_RULES", "AtrousLayer", "atrous_schedule"]
