"""Segmentation pipeline steps (image + label map), each wrapping one albumentations transform.

The Cityscapes training recipe of the MobileNetV3 paper §6.4 / TF DeepLab (random scale 0.5-2.0, random crop such as
769x769 or 512x1024 padded with the ignore label, horizontal flip, photometric jitter) and the test-time resize of
the half-resolution ("h") rows of Table 7. Every step works on the dataset's working dict: ``img`` (H x W x 3 uint8
RGB), ``gt_seg_map`` (H x W trainIds, 255 = ignore), optionally ``gt_instance`` (H x W int32), and updates
``img_shape`` / ``flip``. Label maps are always resampled with nearest neighbour and padded with ``seg_pad_val``.

Randomness and the ``flip`` flag are handled as in the detection pipeline (:class:`~.albu.ProcessReseeder`,
:func:`~.albu.track_flip`); each step re-seeds with its own salt so that steps draw different streams.
"""
from __future__ import annotations

import zlib
from typing import Any, Sequence

import albumentations as A
import cv2

from ...registry import TRANSFORMS
from .albu import ProcessReseeder, applied_names, track_flip

__all__ = ["SegPhotoMetricDistortion", "SegRandomCrop", "SegRandomFlip", "SegRandomScale", "SegResize"]


class _SegAlbu:
    """Apply one albumentations transform to ``img``, ``gt_seg_map`` and ``gt_instance`` with the same parameters."""

    def __init__(self, transform: A.BasicTransform) -> None:
        self.compose = A.Compose([transform], additional_targets={"gt_instance": "mask"}, save_applied_params=True)
        self._reseed = ProcessReseeder(self.compose, salt=zlib.crc32(type(self).__name__.encode()))

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        self._reseed()
        data: dict[str, Any] = dict(image=results["img"])
        if "gt_seg_map" in results:
            data["mask"] = results["gt_seg_map"]
        if "gt_instance" in results:
            data["gt_instance"] = results["gt_instance"]
        out = self.compose(**data)
        results["img"] = out["image"]
        results["img_shape"] = out["image"].shape[:2]
        if "mask" in data:
            results["gt_seg_map"] = out["mask"]
        if "gt_instance" in data:
            results["gt_instance"] = out["gt_instance"]
        track_flip(results, applied_names(out))
        return results

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.compose.transforms[0]!r})"


@TRANSFORMS.register_module()
class SegRandomScale(_SegAlbu):
    """Rescale image and labels by a factor drawn uniformly from ``ratio_range`` (DeepLab: 0.5-2.0, step-free)."""

    def __init__(self, ratio_range: Sequence[float] = (0.5, 2.0)) -> None:
        lo, hi = (float(r) for r in ratio_range)
        if not 0 < lo <= hi:
            raise ValueError(f"SegRandomScale: ratio_range must satisfy 0 < low <= high, got {ratio_range}")
        super().__init__(A.RandomScale(scale_limit=(lo - 1.0, hi - 1.0), interpolation=cv2.INTER_LINEAR,
                                       mask_interpolation=cv2.INTER_NEAREST, p=1.0))


@TRANSFORMS.register_module()
class SegRandomCrop(_SegAlbu):
    """Crop a random ``crop_size = (h, w)`` window; smaller images are first padded at the bottom/right, the image
    with ``pad_val`` (0 or the mean colour) and the labels with ``seg_pad_val`` (255, ignored by the loss)."""

    def __init__(self, crop_size: Sequence[int] = (769, 769), pad_val: float | Sequence[float] = 0,
                 seg_pad_val: int = 255) -> None:
        h, w = (int(v) for v in crop_size)
        fill = tuple(float(v) for v in pad_val) if isinstance(pad_val, (list, tuple)) else float(pad_val)
        super().__init__(A.RandomCrop(height=h, width=w, pad_if_needed=True, border_mode=cv2.BORDER_CONSTANT,
                                      fill=fill, fill_mask=seg_pad_val, pad_position="top_left", p=1.0))


@TRANSFORMS.register_module()
class SegRandomFlip(_SegAlbu):
    """Horizontal flip with probability ``prob``; sets ``flip`` when it was applied."""

    def __init__(self, prob: float = 0.5) -> None:
        super().__init__(A.HorizontalFlip(p=float(prob)))


@TRANSFORMS.register_module()
class SegPhotoMetricDistortion(_SegAlbu):
    """Colour jitter of the image only (labels untouched): brightness/contrast/saturation factors in
    ``[1 - x, 1 + x]`` and a hue shift of up to ``hue`` of the colour circle, applied with probability ``p``."""

    def __init__(self, brightness: float = 0.125, contrast: float = 0.5, saturation: float = 0.5,
                 hue: float = 0.05, p: float = 0.5) -> None:
        super().__init__(A.ColorJitter(brightness=brightness, contrast=contrast, saturation=saturation, hue=hue, p=p))


@TRANSFORMS.register_module()
class SegResize(_SegAlbu):
    """Resize the image to ``size = (h, w)`` (e.g. 512x1024 for the half-resolution rows of MobileNetV3 Table 7).

    By default the label maps keep their original size, so that predictions (upsampled back to ``ori_shape`` by the
    segmentor) are evaluated at full resolution as the Cityscapes protocol requires; ``resize_labels=True`` resizes
    them too (nearest neighbour).
    """

    def __init__(self, size: Sequence[int] = (512, 1024), resize_labels: bool = False) -> None:
        h, w = (int(v) for v in size)
        self.resize_labels = bool(resize_labels)
        super().__init__(A.Resize(height=h, width=w, interpolation=cv2.INTER_LINEAR,
                                  mask_interpolation=cv2.INTER_NEAREST, p=1.0))

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        if self.resize_labels:
            return super().__call__(results)
        out = self.compose(image=results["img"])
        results["img"] = out["image"]
        results["img_shape"] = out["image"].shape[:2]
        return results
