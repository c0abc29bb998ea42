"""What the MobileNets (V1, V2, V3) share beyond :class:`~.base.Backbone`: the output-stride check, building
inverted-residual units from :class:`~.inverted_residual.BlockRow` s, and the OS8 alias (the atrous rule at a target
output stride is :mod:`.atrous`'s)."""
from __future__ import annotations

from typing import Callable, Sequence

from ..feature_spec import FeatureSpec
from .base import Backbone
from .inverted_residual import BlockRow, InvertedResidual

REDUCED_TAILS = (None, "detection", "segmentation")


class MobileNetBackbone(Backbone):
    """What the MobileNets share beyond :class:`Backbone`: inverted-residual blocks from table rows, the OS8 alias.
    (``norm_eval``, ``frozen_stages`` and ``weights`` are :meth:`Backbone.finish_init`'s, for every backbone.)"""

    arch: str = ""

    def _add_blocks(self, blocks: Sequence[BlockRow], stride: int, act_of: Callable[[str], type], bn: dict) -> int:
        """Add ``block1..blockN`` from table rows; return the output stride after the last block."""
        for i, row in enumerate(blocks, start=1):
            unit = InvertedResidual.from_row(row, act_of(row.act), **bn)
            specs = {"expand": FeatureSpec(row.exp, stride)} if unit.expand is not None else {}
            stride *= row.stride
            specs.update(depthwise=FeatureSpec(row.exp, stride), out=FeatureSpec(row.out, stride))
            self.add_unit(f"block{i}", unit, specs)
        return stride

    def _alias_os8(self, os8_tap: str) -> None:
        spec = self._specs[self.resolve(os8_tap)]
        if spec.stride != 8:
            raise ValueError(f"os8_tap={os8_tap!r} has output stride {spec.stride}, not 8")
        self.add_alias("OS8", os8_tap)


def check_output_stride(output_stride: int) -> None:
    if output_stride not in (16, 32):
        raise ValueError(f"output_stride must be 16 or 32, got {output_stride}")


__all__ = ["REDUCED_TAILS", "MobileNetBackbone", "check_output_stride"]
