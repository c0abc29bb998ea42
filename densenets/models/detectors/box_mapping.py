"""Detections back to the original image's pixels, for every detector: un-flip, un-scale, clip.

The inverse of the test-time pipeline (resize, then an optional horizontal flip), as mmdet's ``bbox_mapping_back``
and torchvision's ``GeneralizedRCNNTransform.postprocess`` do it, on the docs/design.md sample keys:

1. ``flip``: mirror about the width of ``img_shape`` (the image after the pipeline, before batch padding):
   ``x1' = w - x2``, ``x2' = w - x1`` (torchvision ``horizontal_flip_bounding_boxes``);
2. ``scale_factor = (sx, sy) = img_shape / ori_shape``: divide x by ``sx`` and y by ``sy`` (torchvision
   ``resize_boxes`` multiplies by ``ori / img``); without ``scale_factor`` it is derived from ``img_shape`` and
   ``ori_shape``, and is 1 when the sample has neither;
3. clip to ``ori_shape`` (``torchvision.ops.clip_boxes_to_image``).
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import Tensor
from torchvision.ops import clip_boxes_to_image


def _hw(value) -> tuple[int, int]:
    h, w = tuple(value)[:2]
    return int(h), int(w)


def scale_factor(sample: Mapping, input_hw: tuple[int, int]) -> tuple[float, float]:
    """``(sx, sy)`` of the resize the pipeline applied (``img_shape / ori_shape``)."""
    if "scale_factor" in sample:
        sx, sy = tuple(sample["scale_factor"])[:2]
        return float(sx), float(sy)
    if "ori_shape" in sample:
        ih, iw = _hw(sample.get("img_shape", input_hw))
        oh, ow = _hw(sample["ori_shape"])
        return iw / ow, ih / oh
    return 1.0, 1.0


def boxes_to_original(boxes: Tensor, sample: Mapping, input_hw: tuple[int, int]) -> Tensor:
    """Map ``boxes`` (``[K, 4]`` xyxy in the pipeline's ``img_shape`` pixels) to ``ori_shape`` pixels.

    ``input_hw`` (the batch's padded size) stands in for a missing ``img_shape``; a missing ``ori_shape`` means the
    image was not resized (clip to ``img_shape``).
    """
    img_h, img_w = _hw(sample.get("img_shape", input_hw))
    if sample.get("flip", False):
        boxes = torch.stack([img_w - boxes[:, 2], boxes[:, 1], img_w - boxes[:, 0], boxes[:, 3]], dim=1)
    sx, sy = scale_factor(sample, input_hw)
    boxes = boxes / boxes.new_tensor([sx, sy, sx, sy])
    return clip_boxes_to_image(boxes, _hw(sample.get("ori_shape", (img_h, img_w))))
