"""The classification form of a backbone: the paper's ImageNet head on top of C5.

Used to check the backbones against the papers' classification figures (params, MAdds at 224²) and against
torchvision's logits with shared weights; dense-prediction models use the bare backbone.
"""
from __future__ import annotations

import os
from typing import Any, Callable, ClassVar

import torch
from torch import Tensor, nn

from ..registry import MODELS
from .backbones import Backbone
from .builder import backbone_from_config


class V3Head(nn.Module):
    """MobileNetV3 §5.2 / Figure 5 "efficient last stage": pool → 1x1 conv to 1280 (Large) / 1024 (Small) + h-swish
    (no BN) → dropout → classifier. On the pooled 1x1 map the 1x1 convs are the linear layers ``fc1`` and ``fc``."""

    def __init__(self, in_channels: int, hidden: int, num_classes: int, dropout: float = 0.2) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Linear(in_channels, hidden)
        self.act = nn.Hardswish(inplace=True)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.dropout(self.act(self.fc1(torch.flatten(self.pool(x), 1)))))


class LinearHead(nn.Module):
    """Pool → (dropout) → linear: MobileNetV2 Table 2 (dropout 0.2, as torchvision), MobileNetV1 Table 1 (none)."""

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(in_channels, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.dropout(torch.flatten(self.pool(x), 1)))


def _v3_head(backbone: Backbone, num_classes: int) -> nn.Module:
    return V3Head(backbone.num_features, backbone.head_channels, num_classes, dropout=0.2)


#: backbone name -> head builder ``(backbone, num_classes) -> nn.Module`` (the backbone's C5 feeds the head).
HEADS: dict[str, Callable[[Backbone, int], nn.Module]] = {
    "mobilenet_v1": lambda b, k: LinearHead(b.num_features, k),
    "mobilenet_v2": lambda b, k: LinearHead(b.num_features, k, dropout=0.2),
    "mobilenet_v3_large": _v3_head,
    "mobilenet_v3_small": _v3_head,
    # ShuffleNet §3.3 Table 1 / ShuffleNet V2 Table 5: global pool -> FC (V2's conv5 is the backbone's C5)
    "shufflenet_v1": lambda b, k: LinearHead(b.num_features, k),
    "shufflenet_v2": lambda b, k: LinearHead(b.num_features, k),
}


@MODELS.register_module()
class ImageClassifier(nn.Module):
    """A backbone (``out_taps=("C5",)``) and its paper's classifier head; ``forward(x)`` returns logits.

    ``weights=PATH`` loads a torchvision-format checkpoint of the same architecture (backbone and classifier) or a
    densenets ``state_dict`` of this module; keys that do not fit are reported in ``self.load_report``.
    """

    task: ClassVar[str] = "classification"

    def __init__(
        self, backbone_name: str, num_classes: int = 1000, weights: str | os.PathLike | None = None,
        **backbone_options: Any,
    ) -> None:
        super().__init__()
        if backbone_name not in HEADS:
            raise KeyError(f"no classification head for {backbone_name!r}; available: {sorted(HEADS)}")
        self.backbone = backbone_from_config(dict(name=backbone_name, **backbone_options), ("C5",), "ImageClassifier")
        self.head = HEADS[backbone_name](self.backbone, num_classes)
        for m in self.head.modules():
            if isinstance(m, nn.Linear):  # torchvision's init of the classifier
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)
        self.load_report = None
        if weights is not None:
            from .backbones.torchvision_weights import load_classifier_weights

            self.load_report = load_classifier_weights(self, weights)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.backbone(x)["C5"])
