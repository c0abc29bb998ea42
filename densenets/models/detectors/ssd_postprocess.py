"""SSDLite post-processing, vectorised over images and classes, equal to TF's ``batch_multiclass_non_max_suppression``.

TF Object Detection API ``core/post_processing.py`` ``multiclass_non_max_suppression``, per image: for every class,
keep the boxes whose score is above ``score_thresh``, run NMS and keep at most ``max_size_per_class`` survivors;
concatenate the classes, sort by score and keep the first ``max_total_size``. ``ssdlite_mobilenet_v3_large_320x320
_coco.config`` sets ``score_threshold: 1e-8``, ``iou_threshold: 0.6``, ``max_detections_per_class: 100``,
``max_total_detections: 100``. :class:`SSDPostProcessor` returns exactly that (up to ties in score), in every case.

How it stays fast: it runs that procedure on the ``k`` best (anchor, class) candidates of each image (``k = topk`` at
first), with class-wise NMS over the whole batch at once (group id ``image * num_classes + class``).
Greedy NMS lets a box be suppressed only by higher-scoring boxes of its class, so the survivors found among the ``k``
best candidates are exactly the full procedure's survivors down to the ``k``-th score; hence an image's result is
final once ``max_per_img`` survivors remain after the per-class cap, or once ``k`` covers all of its candidates above
the threshold. Otherwise (e.g. a dense cluster where the best 1000 candidates suppress one another to a handful)
``k`` grows fourfold and the pass is repeated, up to all candidates; ``topk`` therefore bounds only the first pass's
work, never the result.

The class-wise NMS is :func:`nms_by_group`: ``torchvision.ops.batched_nms`` offsets each group's boxes so that
groups cannot overlap and runs one NMS, whose cost grows with the square of *all* the boxes although boxes of
different groups never suppress one another. The same offset boxes are cut, at group boundaries, into slices of
about ``GROUP_SLICE`` boxes and NMS runs on each slice: the same comparisons within a group, the same suppressions.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torchvision.ops import nms

GROUP_SLICE = 128  # boxes per NMS call of nms_by_group (about the cost of one call's overhead in comparisons)


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


def nms_by_group(boxes: Tensor, scores: Tensor, groups: Tensor, iou: float) -> Tensor:
    """Indices kept by class-wise NMS, by decreasing score: ``torchvision.ops.batched_nms(boxes, scores, groups,
    iou)`` with its coordinate trick (each group offset by ``group * (max coordinate + 1)``), run on slices of whole
    groups of about :data:`GROUP_SLICE` boxes (module docstring)."""
    if boxes.numel() == 0:
        return torch.empty(0, dtype=torch.int64, device=boxes.device)
    order = torch.sort(groups, stable=True).indices
    sorted_groups = groups[order]
    shifted = boxes[order] + (sorted_groups.to(boxes) * (boxes.max() + 1))[:, None]
    sorted_scores = scores[order]
    ends = torch.cumsum(torch.bincount(sorted_groups), 0)
    ends = ends[torch.diff(ends, prepend=ends.new_zeros(1)) > 0]  # one end per group present
    # a slice ends after the last group that ends in the same window of GROUP_SLICE boxes
    window = (ends - 1) // GROUP_SLICE
    last_of_window = torch.ones_like(window, dtype=torch.bool)
    last_of_window[:-1] = window[1:] != window[:-1]
    bounds = [0] + ends[last_of_window].tolist()
    kept = torch.cat([nms(shifted[a:b], sorted_scores[a:b], iou) + a for a, b in zip(bounds[:-1], bounds[1:])])
    kept = order[kept]
    return kept[torch.sort(scores[kept], descending=True, stable=True).indices]


def rank_within_groups(groups: Tensor) -> Tensor:
    """Position of each element among the elements of its group, in the given order (``groups`` sorted or not)."""
    order = torch.sort(groups, stable=True).indices
    sorted_groups = groups[order]
    counts = torch.bincount(sorted_groups)
    first = torch.cumsum(counts, 0) - counts
    rank = torch.empty_like(order)
    rank[order] = torch.arange(groups.numel(), device=groups.device) - first[sorted_groups]
    return rank


class SSDPostProcessor:
    """Score threshold, class-wise NMS, ``max_per_class`` then ``max_per_img`` caps (TF: 1e-8, IoU 0.6, 100, 100).

    ``topk``: candidates per image of the first pass (module docstring); it changes the speed, not the result.
    """

    def __init__(
        self,
        score_thr: float = 1e-8,
        nms_iou: float = 0.6,
        max_per_img: int = 100,
        topk: int = 1000,
        max_per_class: int = 100,
    ) -> None:
        if topk < 1 or max_per_img < 1 or max_per_class < 1:
            raise ValueError(f"SSDPostProcessor: topk ({topk}), max_per_img ({max_per_img}) and max_per_class "
                             f"({max_per_class}) must be >= 1")
        self.score_thr = score_thr
        self.nms_iou = nms_iou
        self.max_per_img = max_per_img
        self.max_per_class = max_per_class
        self.topk = topk

    def __call__(self, scores: Tensor, boxes: Tensor) -> Detections:
        """``scores [B, A, C]`` (probabilities), ``boxes [B, A, 4]`` (``xyxy``) -> :class:`Detections`."""
        batch, num_anchors, num_classes = scores.shape
        flat = scores.reshape(batch, -1)
        total = flat.shape[1]
        k = min(self.topk, total)
        candidates = None
        while True:
            result, counts = self._pass(flat, boxes, num_classes, k)
            if k >= total or bool((counts >= self.max_per_img).all()):
                return result
            if candidates is None:
                candidates = (flat > self.score_thr).sum(1)  # per image, above the threshold
            if bool(((counts >= self.max_per_img) | (candidates <= k)).all()):
                return result
            k = min(4 * k, total)

    def _pass(self, flat: Tensor, boxes: Tensor, num_classes: int, k: int) -> tuple[Detections, Tensor]:
        """The TF procedure on the ``k`` best candidates of each image; also returns the survivor count per image
        after the per-class cap (before the per-image cap)."""
        batch = flat.shape[0]
        top_scores, top_idx = flat.topk(k, dim=1)  # [B, k], sorted
        anchor_idx = top_idx // num_classes
        labels = top_idx % num_classes
        cand_boxes = boxes.gather(1, anchor_idx[..., None].expand(batch, k, 4))
        image_idx = torch.arange(batch, device=flat.device)[:, None].expand(batch, k)

        top_scores, labels, image_idx, cand_boxes = (
            top_scores.reshape(-1), labels.reshape(-1), image_idx.reshape(-1), cand_boxes.reshape(-1, 4)
        )
        keep = top_scores > self.score_thr
        if not bool(keep.all()):
            top_scores, labels, image_idx, cand_boxes = (
                top_scores[keep], labels[keep], image_idx[keep], cand_boxes[keep]
            )
        groups = image_idx * num_classes + labels
        kept = nms_by_group(cand_boxes, top_scores, groups, self.nms_iou)  # sorted by score over the whole batch
        if self.max_per_class < self.max_per_img:  # otherwise the total cap alone gives the same result
            kept = kept[rank_within_groups(groups[kept]) < self.max_per_class]  # TF max_size_per_class
        # a stable sort by image keeps the score order within each image
        kept = kept[torch.sort(image_idx[kept], stable=True).indices]
        image_of_kept = image_idx[kept]
        counts = torch.bincount(image_of_kept, minlength=batch)
        first = torch.cumsum(counts, 0) - counts
        rank = torch.arange(kept.numel(), device=kept.device) - first[image_of_kept]
        sel = rank < self.max_per_img  # TF max_total_size
        kept, image_of_kept = kept[sel], image_of_kept[sel]
        dets = Detections(
            boxes=cand_boxes[kept],
            scores=top_scores[kept],
            labels=labels[kept],
            batch_idx=image_of_kept,
            counts=counts.clamp(max=self.max_per_img).tolist(),
        )
        return dets, counts
