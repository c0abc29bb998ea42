"""Declared feature metadata: what a backbone (or neck) tap carries.

A head is built from the :class:`FeatureSpec` of the taps it reads, so channel counts are never typed into configs.
One invariant test checks, for every backbone and option, that declared == real (channels, and
spatial size == ceil(input / stride)).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FeatureSpec:
    """Channels and output stride (relative to the network input) of one named feature map."""

    channels: int
    stride: int

    def spatial(self, height: int, width: int) -> tuple[int, int]:
        """Spatial size this tap has for an ``height x width`` input (``ceil(size / stride)``)."""
        return (-(-height // self.stride), -(-width // self.stride))
