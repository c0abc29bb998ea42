"""Reduced Atrous Spatial Pyramid Pooling (R-ASPP) segmentation head, MobileNetV2 §6.3.

DeepLabv3's ASPP reduced to its two cheap branches on the last feature map (no atrous 3x3 branches). Layer
placement follows TF DeepLab ``model.py`` (``extract_features`` with ``aspp_with_batch_norm=1``,
``add_image_level_feature=1``, no ``atrous_rates``, ``aspp_with_concat_projection=1``; ``get_branch_logits``):

* ``image_pool``  global avg pool -> 1x1 conv F (no bias) + BN + ReLU -> bilinear upsample (TF ``image_pooling``);
* ``branch``      1x1 conv F (no bias) + BN + ReLU (TF ``aspp0``);
* concat [image_pool, branch] -> 1x1 conv F (no bias) + BN + ReLU (TF ``concat_projection``) -> dropout with keep
  probability 0.9 in training (TF ``slim.dropout(keep_prob=0.9)``) -> 1x1 conv to classes with bias, no BN, no
  activation (TF ``logits``).

The pooling is global: TF DeepLab's MobileNetV2 Cityscapes runs set no ``image_pooling_crop_size``, so the pooling
kernel is the whole (training or evaluation) crop's feature map. No decoder: the logits stay at the feature map's
output stride (16) and are upsampled to the image by the segmentor.

As in TF, the image-pooling branch has a BatchNorm on a 1x1 map: training needs at least 2 images per device
(PyTorch refuses batch statistics of a single value per channel).
"""
from __future__ import annotations

from typing import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..feature_spec import FeatureSpec
from ..layers import ConvBNAct


def _conv_bn_relu(cin: int, cout: int, bn_eps: float, bn_momentum: float) -> ConvBNAct:
    return ConvBNAct(cin, cout, 1, act=nn.ReLU, bn_eps=bn_eps, bn_momentum=bn_momentum)


class RASPPHead(nn.Module):
    """R-ASPP head of MobileNetV2 (§6.3), built from the FeatureSpec of the last backbone feature.

    Args:
        high: FeatureSpec of the feature map the head reads (OS 16 in the paper).
        num_classes: number of output classes.
        channels: F, the width of every branch and of the projection (256 in the paper).
        dropout: drop probability after the concat projection (TF: keep 0.9 -> 0.1).
        bn_eps, bn_momentum: BatchNorm settings of the three conv-BN-ReLU layers.

    ``forward({"high": Tensor})`` returns logits at the feature map's resolution.
    """

    in_keys = ("high",)

    def __init__(
        self,
        high: FeatureSpec,
        num_classes: int,
        channels: int = 256,
        dropout: float = 0.1,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.image_pool = _conv_bn_relu(high.channels, channels, bn_eps, bn_momentum)
        self.branch = _conv_bn_relu(high.channels, channels, bn_eps, bn_momentum)
        self.project = _conv_bn_relu(2 * channels, channels, bn_eps, bn_momentum)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()  # element-wise, as slim.dropout
        self.classifier = nn.Conv2d(channels, num_classes, 1)
        self.output_stride = high.stride

    def forward(self, features: Mapping[str, Tensor]) -> Tensor:
        high = features["high"]
        pooled = self.image_pool(high.mean(dim=(2, 3), keepdim=True))
        # upsampling a 1x1 map bilinearly is a broadcast
        pooled = pooled.expand(-1, -1, *high.shape[-2:])
        x = torch.cat([pooled, self.branch(high)], dim=1)
        return self.classifier(self.dropout(self.project(x)))
