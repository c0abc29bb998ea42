"""SSDLite post-processing, vectorised over images and classes (TF ``batch_non_max_suppression``).

Per image, the ``topk`` best (anchor, class) scores are kept, then one ``torchvision.ops.batched_nms`` call runs
class-wise NMS for every image of the batch at once (the group id is ``image * num_classes + class``), and the first
``max_per_img`` survivors of each image are returned. Greedy NMS only lets a box be suppressed by higher-scoring
boxes, so whenever at least ``max_per_img`` candidates of an image survive, the result equals NMS over all
``A x C`` scores; ``topk`` only bounds the work.

Deviation from TF: no separate ``max_detections_per_class`` cap (TF sets it to 100 = ``max_total_detections``, so a
single class could only be capped by it if it alone had > 100 survivors).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torchvision.ops import batched_nms


@dataclass
class Detections:
    """Flat detections of a batch: ``batch_idx[K]`` tells which image each row belongs to (rows grouped by image,
    by decreasing score within an image)."""

    boxes: Tensor
    scores: Tensor
    labels: Tensor
    batch_idx: Tensor
    counts: list[int]

    def split(self) -> list[tuple[Tensor, Tensor, Tensor]]:
        return list(zip(self.boxes.split(self.counts), self.scores.split(self.counts), self.labels.split(self.counts)))


class SSDPostProcessor:
    """Score threshold, top-k, class-wise batched NMS, per-image cap (TF: 1e-8, IoU 0.6, 100 per image)."""

    def __init__(
        self, score_thr: float = 1e-8, nms_iou: float = 0.6, max_per_img: int = 100, topk: int = 1000
    ) -> None:
        self.score_thr = score_thr
        self.nms_iou = nms_iou
        self.max_per_img = max_per_img
        self.topk = topk

    def __call__(self, scores: Tensor, boxes: Tensor) -> Detections:
        """``scores [B, A, C]`` (probabilities), ``boxes [B, A, 4]`` (``xyxy``) -> :class:`Detections`."""
        batch, num_anchors, num_classes = scores.shape
        k = min(self.topk, num_anchors * num_classes)
        top_scores, top_idx = scores.reshape(batch, -1).topk(k, dim=1)  # [B, k], sorted
        anchor_idx = top_idx // num_classes
        labels = top_idx % num_classes
        cand_boxes = boxes.gather(1, anchor_idx[..., None].expand(batch, k, 4))
        image_idx = torch.arange(batch, device=scores.device)[:, None].expand(batch, k)

        top_scores, labels, image_idx, cand_boxes = (
            top_scores.reshape(-1), labels.reshape(-1), image_idx.reshape(-1), cand_boxes.reshape(-1, 4)
        )
        keep = top_scores > self.score_thr
        if not bool(keep.all()):
            top_scores, labels, image_idx, cand_boxes = (
                top_scores[keep], labels[keep], image_idx[keep], cand_boxes[keep]
            )
        kept = batched_nms(cand_boxes, top_scores, image_idx * num_classes + labels, self.nms_iou)
        # kept is sorted by score over the whole batch; a stable sort by image keeps that order within each image
        image_of_kept = image_idx[kept]
        order = torch.sort(image_of_kept, stable=True).indices
        kept, image_of_kept = kept[order], image_of_kept[order]
        counts = torch.bincount(image_of_kept, minlength=batch)
        first = torch.cumsum(counts, 0) - counts
        rank = torch.arange(kept.numel(), device=kept.device) - first[image_of_kept]
        sel = rank < self.max_per_img
        kept, image_of_kept = kept[sel], image_of_kept[sel]
        counts = counts.clamp(max=self.max_per_img)
        return Detections(
            boxes=cand_boxes[kept],
            scores=top_scores[kept],
            labels=labels[kept],
            batch_idx=image_of_kept,
            counts=counts.tolist(),
        )
