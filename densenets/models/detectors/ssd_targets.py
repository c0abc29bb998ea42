"""SSD training targets: anchor matching and box encoding (MobileNetV2 §6.2 / TF OD API SSD meta-architecture).

Matching (TF ``argmax_matcher`` with ``matched_threshold = unmatched_threshold = 0.5, force_match_for_each_row``):
an anchor is positive when its best IoU with a ground truth is >= 0.5, and every ground truth is additionally
forced onto its best anchor. This is torchvision's ``det_utils.SSDMatcher``, which is wrapped here. Box codes are
Faster R-CNN style with scales (10, 10, 5, 5) — torchvision's ``det_utils.BoxCoder``, wrapped too.

Matching runs per image (a ``[N, A]`` IoU and an argmax; cheap); everything after it is batched.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor
from torchvision.models.detection import _utils as det_utils
from torchvision.ops import box_iou

BOX_CODER_WEIGHTS = (10.0, 10.0, 5.0, 5.0)


class SSDTargetAssigner:
    """Match ground truth to anchors and encode box targets for a whole batch.

    :meth:`__call__` returns ``labels`` (int64 ``[B, A]``, ``-1`` = background, else the contiguous class) and
    ``box_targets`` (float ``[B, A, 4]``, encoded; zeros where background).
    """

    def __init__(self, iou_threshold: float = 0.5, weights: Sequence[float] = BOX_CODER_WEIGHTS) -> None:
        self.iou_threshold = iou_threshold
        self.matcher = det_utils.SSDMatcher(iou_threshold)
        self.box_coder = det_utils.BoxCoder(weights=tuple(weights))

    def match(self, gt_boxes: Tensor, anchors: Tensor) -> Tensor:
        """Index of the matched ground truth of every anchor (``-1`` = background); ``gt_boxes`` may be empty."""
        if gt_boxes.numel() == 0:
            return torch.full((anchors.shape[0],), -1, dtype=torch.int64, device=anchors.device)
        matches = self.matcher(box_iou(gt_boxes, anchors))
        return matches.clamp(min=-1)  # the matcher's "between thresholds" (-2) cannot occur with equal thresholds

    def __call__(
        self, gt_boxes: Sequence[Tensor], gt_labels: Sequence[Tensor], anchors: Tensor
    ) -> tuple[Tensor, Tensor]:
        batch = len(gt_boxes)
        num_anchors = anchors.shape[0]
        matched: list[Tensor] = []
        offsets: list[int] = []
        offset = 0
        for boxes in gt_boxes:
            matched.append(self.match(boxes, anchors))
            offsets.append(offset)
            offset += boxes.shape[0]
        matched_idx = torch.stack(matched)  # [B, A]
        positive = matched_idx >= 0
        all_boxes = torch.cat([b.reshape(-1, 4) for b in gt_boxes]).to(anchors)
        all_labels = torch.cat([lab.reshape(-1) for lab in gt_labels]).to(device=anchors.device, dtype=torch.int64)
        # one gather for the whole batch: index into the concatenated ground truth
        flat_idx = (matched_idx + anchors.new_tensor(offsets, dtype=torch.int64)[:, None]).clamp(min=0)
        labels = torch.full((batch, num_anchors), -1, dtype=torch.int64, device=anchors.device)
        box_targets = anchors.new_zeros((batch, num_anchors, 4))
        if all_boxes.shape[0] > 0:
            labels = torch.where(positive, all_labels[flat_idx], labels)
            pos_b, pos_a = positive.nonzero(as_tuple=True)
            if pos_b.numel() > 0:
                encoded = self.box_coder.encode_single(all_boxes[flat_idx[pos_b, pos_a]], anchors[pos_a])
                box_targets[pos_b, pos_a] = encoded
        return labels, box_targets

    def decode(self, box_deltas: Tensor, anchors: Tensor) -> Tensor:
        """Decode ``[B, A, 4]`` codes against ``[A, 4]`` anchors into ``[B, A, 4]`` ``xyxy`` boxes."""
        batch, num_anchors = box_deltas.shape[:2]
        flat = self.box_coder.decode_single(box_deltas.reshape(-1, 4), anchors.expand(batch, -1, -1).reshape(-1, 4))
        return flat.reshape(batch, num_anchors, 4)
