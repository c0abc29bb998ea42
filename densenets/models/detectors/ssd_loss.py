"""SSDLite losses, batched over images and anchors (no per-image loops).

``SSDFocalLoss`` (default) is the TF OD API ``ssdlite_mobilenet_v3_large_320x320_coco.config`` loss:
``weighted_sigmoid_focal {alpha: 0.75, gamma: 2}`` over ``num_classes`` sigmoid outputs with background encoded as
all zeros (``encode_background_as_zeros``), ``weighted_smooth_l1 {delta: 1}`` on positives, both divided by the number
of matched anchors in the batch (``normalize_loss_by_num_matches``), the box loss also by the code size 4
(``normalize_loc_loss_by_codesize``). The focal term is ``torchvision.ops.sigmoid_focal_loss`` (same alpha
convention as TF: alpha weights the positive targets).

``SSDSoftmaxHNMLoss`` is torchvision's SSD loss: softmax over ``num_classes + 1`` (background = index 0), hard-negative
mining keeping the ``neg_pos_ratio`` x positives highest-loss negatives of each image, smooth-L1 boxes, both
divided by the number of positives.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torchvision.ops import sigmoid_focal_loss


class SSDFocalLoss:
    """TF SSDLite loss (MobileNetV3 §6.3 reference config): sigmoid focal classification + smooth-L1 boxes."""

    background_logit = False  # the head predicts num_classes columns, no background column

    def __init__(
        self, alpha: float = 0.75, gamma: float = 2.0, box_weight: float = 1.0, normalize_by_codesize: bool = True
    ) -> None:
        self.alpha = alpha
        self.gamma = gamma
        self.box_weight = box_weight
        self.normalize_by_codesize = normalize_by_codesize

    def __call__(
        self, cls_logits: Tensor, box_deltas: Tensor, labels: Tensor, box_targets: Tensor
    ) -> dict[str, Tensor]:
        """``cls_logits [B, A, C]``, ``box_deltas [B, A, 4]``, ``labels [B, A]`` (-1 = background),
        ``box_targets [B, A, 4]``."""
        positive = labels >= 0
        num_pos = positive.sum().clamp(min=1).to(cls_logits.dtype)
        onehot = F.one_hot((labels + 1).clamp(min=0), cls_logits.shape[-1] + 1)[..., 1:].to(cls_logits.dtype)
        loss_cls = sigmoid_focal_loss(cls_logits, onehot, alpha=self.alpha, gamma=self.gamma, reduction="sum")
        loss_box = F.smooth_l1_loss(box_deltas[positive], box_targets[positive], beta=1.0, reduction="sum")
        if self.normalize_by_codesize:
            loss_box = loss_box / box_deltas.shape[-1]
        return {"loss_cls": loss_cls / num_pos, "loss_bbox": self.box_weight * loss_box / num_pos}


class SSDSoftmaxHNMLoss:
    """torchvision's SSD loss: softmax over background + classes with 3:1 hard-negative mining."""

    background_logit = True  # the head predicts num_classes + 1 columns, background first

    def __init__(self, neg_pos_ratio: float = 3.0, box_weight: float = 1.0) -> None:
        self.neg_pos_ratio = neg_pos_ratio
        self.box_weight = box_weight

    def __call__(
        self, cls_logits: Tensor, box_deltas: Tensor, labels: Tensor, box_targets: Tensor
    ) -> dict[str, Tensor]:
        positive = labels >= 0
        target = labels + 1  # background -> 0
        num_pos = positive.sum().clamp(min=1).to(cls_logits.dtype)
        ce = F.cross_entropy(cls_logits.flatten(0, 1), target.flatten(), reduction="none").view_as(target)
        # hard negatives: per image, the neg_pos_ratio * num_positives negatives with the largest loss
        neg_loss = ce.detach().masked_fill(positive, -float("inf"))
        order = neg_loss.argsort(dim=1, descending=True)
        rank = order.argsort(dim=1)
        num_neg = self.neg_pos_ratio * positive.sum(dim=1, keepdim=True)
        negative = rank < num_neg
        loss_cls = (ce[positive].sum() + ce[negative].sum()) / num_pos
        loss_box = F.smooth_l1_loss(box_deltas[positive], box_targets[positive], beta=1.0, reduction="sum")
        return {"loss_cls": loss_cls, "loss_bbox": self.box_weight * loss_box / num_pos}


def build_ssd_loss(loss: str | dict = "focal") -> SSDFocalLoss | SSDSoftmaxHNMLoss:
    """``"focal"`` (TF reference, default) or ``"softmax_hnm"`` (torchvision); a dict adds options:
    ``dict(type="focal", alpha=0.75, gamma=2.0)``."""
    options = dict(loss) if isinstance(loss, dict) else {"type": loss}
    kind = options.pop("type", "focal")
    if kind == "focal":
        return SSDFocalLoss(**options)
    if kind == "softmax_hnm":
        return SSDSoftmaxHNMLoss(**options)
    raise ValueError(f"unknown SSD loss {kind!r}; use 'focal' or 'softmax_hnm'")
