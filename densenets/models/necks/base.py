"""The neck contract, after detectron2's ``modeling/backbone/fpn.py`` (whose FPN is itself a ``Backbone``).

A neck is built from the ``output_shape()`` of the backbone it follows (an ordered ``{tap: FeatureSpec}``), takes
that backbone's ``OrderedDict[str, Tensor]`` and returns an ``OrderedDict[str, Tensor]`` of the maps the heads read,
whose names, channels and strides :meth:`Neck.output_shape` declares, so heads are built from the neck's specs as
they are from a backbone's. The FeatureSpec invariant (channels, ``ceil(input / stride)``) holds for both.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Mapping

from torch import nn

from ..feature_spec import FeatureSpec


class Neck(nn.Module):
    """Base class of the necks: ``in_specs`` (the backbone taps it reads, in order) and :meth:`output_shape`;
    ``forward(feats: Mapping[str, Tensor]) -> OrderedDict[str, Tensor]``."""

    def __init__(self, in_specs: Mapping[str, FeatureSpec]) -> None:
        super().__init__()
        if not in_specs:
            raise ValueError(f"{type(self).__name__} needs at least one input tap")
        self.in_specs: "OrderedDict[str, FeatureSpec]" = OrderedDict(in_specs)

    def output_shape(self) -> "OrderedDict[str, FeatureSpec]":
        """The FeatureSpec of every map :meth:`forward` returns, under the same names and in the same order."""
        raise NotImplementedError
