"""SSDLite box predictors (MobileNetV2 §6.2: "replace all the regular convolutions with separable convolutions
(depthwise followed by 1x1 projection) in SSD prediction layers"; TF ``convolutional_box_predictor`` with
``use_depthwise: true``, ``kernel_size: 3``, ``class_prediction_bias_init: -4.6``).

On every feature map, two independent predictors: 3x3 depthwise + BN + ReLU6 -> 1x1 conv (with bias, no BN), one for
the class scores and one for the 4 box codes. Outputs are flattened to ``[B, sum(H*W*anchors), K]`` in
``(map, y, x, anchor)`` order, the order of :class:`~densenets.models.detectors.ssd_anchors.SSDAnchorGenerator`.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from ..layers import ConvBNAct
from ..feature_spec import FeatureSpec


class SeparablePredictor(nn.Sequential):
    """3x3 depthwise conv + BN + ReLU6 -> 1x1 conv to ``num_anchors * columns`` (bias, no BN)."""

    def __init__(self, channels: int, outputs: int, bn_eps: float, bn_momentum: float) -> None:
        super().__init__(
            ConvBNAct(channels, channels, 3, groups=channels, act=nn.ReLU6, bn_eps=bn_eps, bn_momentum=bn_momentum),
            nn.Conv2d(channels, outputs, 1),
        )


class SSDLiteHead(nn.Module):
    """Class and box predictors on every map, built from the maps' :class:`FeatureSpec` s.

    ``num_columns`` is the number of class outputs per anchor (``num_classes`` for the sigmoid loss,
    ``num_classes + 1`` with a background column for the softmax loss). ``forward(features)`` returns
    ``(cls_logits [B, A, num_columns], box_deltas [B, A, 4])``.
    """

    def __init__(
        self,
        in_specs: Sequence[FeatureSpec],
        num_anchors: Sequence[int],
        num_columns: int,
        cls_bias_init: float = -4.6,
        init_std: float = 0.03,
        bn_eps: float = 1e-3,
        bn_momentum: float = 0.03,
    ) -> None:
        super().__init__()
        if len(in_specs) != len(num_anchors):
            raise ValueError(f"{len(in_specs)} feature maps but anchors for {len(num_anchors)}")
        self.num_columns = num_columns
        self.num_anchors = list(num_anchors)
        self.cls_bias_init = cls_bias_init
        self.init_std = init_std
        self.cls_preds = nn.ModuleList(
            SeparablePredictor(s.channels, a * num_columns, bn_eps, bn_momentum) for s, a in zip(in_specs, num_anchors)
        )
        self.box_preds = nn.ModuleList(
            SeparablePredictor(s.channels, a * 4, bn_eps, bn_momentum) for s, a in zip(in_specs, num_anchors)
        )
        self.init_weights()

    def init_weights(self) -> None:
        """TF box predictor: convs ``N(0, 0.03)``, biases 0, class bias -4.6 (sigmoid prior ~0.01); BN 1/0."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0.0, self.init_std)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        for pred in self.cls_preds:
            nn.init.constant_(pred[-1].bias, self.cls_bias_init)

    @staticmethod
    def _flatten(x: Tensor, columns: int) -> Tensor:
        b, _, h, w = x.shape
        # (B, A*K, H, W) -> (B, H, W, A*K) -> (B, H*W*A, K)
        return x.permute(0, 2, 3, 1).reshape(b, h * w * (x.shape[1] // columns), columns)

    def forward(self, features: Sequence[Tensor]) -> tuple[Tensor, Tensor]:
        cls = [self._flatten(p(f), self.num_columns) for p, f in zip(self.cls_preds, features)]
        box = [self._flatten(p(f), 4) for p, f in zip(self.box_preds, features)]
        return torch.cat(cls, dim=1), torch.cat(box, dim=1)
