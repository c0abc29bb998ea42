"""Second-stage box head made of the backbone's own layers after the RoI tap (the papers' C4 form).

MobileNetV1 §4.7 / Table 13 (after Huang et al., "Speed/accuracy trade-offs", the TF Object Detection API): the
RPN and the RoI crops read the OS-16 layer (conv 11); the remaining layers (conv 12-13) run on every RoI as the
second stage. ShuffleNet §4.2 / Table 7 builds its Faster R-CNN the same way on stage 3 / stage 4. The head does
not own those layers: it runs them through ``Backbone.forward_from`` so the weights are the backbone's.
"""
from __future__ import annotations

from torch import Tensor, nn

from ..backbones.base import Backbone


class BackboneTailHead(nn.Module):
    """Run ``backbone`` from ``start`` to ``until`` on RoI features, then global-average-pool and flatten.

    With a 14x14 RoIAlign crop, the tail's stride-2 block brings each RoI to 7x7 before the pooling. The backbone
    is held by reference only (not registered as a child), so its parameters appear once in the model, under
    ``backbone``; ``out_channels`` is the declared channel count of ``until``.
    """

    def __init__(self, backbone: Backbone, start: str = "C4", until: str = "C5") -> None:
        super().__init__()
        specs = backbone.feature_info
        for tap in (start, until):
            if tap not in specs:
                raise KeyError(f"BackboneTailHead: {type(backbone).__name__} has no tap {tap!r}")
        if specs[until].stride <= specs[start].stride:
            raise ValueError(f"BackboneTailHead: {until!r} must come after {start!r} (strides "
                             f"{specs[start].stride} -> {specs[until].stride})")
        object.__setattr__(self, "_backbone", backbone)  # shared, not a child: no duplicate state-dict entries
        self.start, self.until = start, until
        self.in_channels = specs[start].channels
        self.out_channels = specs[until].channels
        self.stride = specs[until].stride // specs[start].stride
        self.pool = nn.AdaptiveAvgPool2d(1)

    def tail_features(self, x: Tensor) -> Tensor:
        """The RoI features after the backbone tail (``N x C5 x h x w``; 7x7 for a 14x14 crop)."""
        return self._backbone.forward_from(self.start, x, until=self.until)

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(self.tail_features(x)).flatten(1)
