"""Albumentations transforms that albumentations 2.0.8 lacks, for the SSD and Faster R-CNN pipelines.

These are plain ``albumentations`` transforms (``DualTransform`` / ``ImageOnlyTransform``); they run inside an
``A.Compose`` with ``BboxParams(format="pascal_voc")`` (see :class:`~densenets.datasets.transforms.Albumentations`).
Inside such a Compose, albumentations hands boxes to ``apply_to_bboxes`` normalised to ``[0, 1]`` of the current
image, with the label columns appended; only the first four columns are touched here.

SSD's augmentation (Liu et al., "SSD: Single Shot MultiBox Detector", ECCV 2016, §2.2 "Data augmentation" and §3.6
"Data augmentation for small object accuracy"), which the MobileNetV2 (§6.2) and MobileNetV3 (§6.3) papers use for
SSDLite: photometric distortion, zoom-out ("expansion") onto a mean-filled canvas up to 4x, and a random crop that
must overlap some object by a minimum IoU drawn from {0.1, 0.3, 0.5, 0.7, 0.9} or is skipped; boxes whose centre leaves
the crop are dropped, the others clipped.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

import cv2
import numpy as np
from albumentations.augmentations.crops import functional as fcrops
from albumentations.augmentations.crops.transforms import BaseCrop
from albumentations.augmentations.geometric import functional as fgeometric
from albumentations.augmentations.pixel import functional as fpixel
from albumentations.core.bbox_utils import denormalize_bboxes
from albumentations.core.transforms_interface import DualTransform, ImageOnlyTransform
from albumentations.core.type_definitions import Targets

__all__ = ["SSDPhotometricDistort", "ZoomOut", "MinIoURandomCrop", "ResizeShortestEdge"]


class SSDPhotometricDistort(ImageOnlyTransform):
    """SSD's photometric distortion (SSD paper §2.2; the order of the Caffe SSD ``DistortImage`` and torchvision's
    ``RandomPhotometricDistort``): brightness, then contrast either before or after saturation and hue, then a
    random channel permutation. Each step is applied with probability ``p_each``; the ranges are torchvision's
    (multiplicative brightness/contrast/saturation factors, hue shift as a fraction of the hue circle).
    """

    def __init__(
        self,
        brightness: tuple[float, float] = (0.875, 1.125),
        contrast: tuple[float, float] = (0.5, 1.5),
        saturation: tuple[float, float] = (0.5, 1.5),
        hue: tuple[float, float] = (-0.05, 0.05),
        p_each: float = 0.5,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.brightness = tuple(brightness)
        self.contrast = tuple(contrast)
        self.saturation = tuple(saturation)
        self.hue = tuple(hue)
        self.p_each = p_each

    def get_params(self) -> dict[str, Any]:
        r = self.py_random

        def maybe(rng: tuple[float, float]) -> float | None:
            return r.uniform(*rng) if r.random() < self.p_each else None

        params: dict[str, Any] = {
            "brightness": maybe(self.brightness),
            "contrast_first": r.random() < 0.5,
            "contrast": maybe(self.contrast),
            "saturation": maybe(self.saturation),
            "hue": maybe(self.hue),
            "permutation": None,
        }
        if r.random() < self.p_each:
            perm = [0, 1, 2]
            r.shuffle(perm)
            params["permutation"] = perm
        return params

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        if params["brightness"] is not None:
            img = fpixel.adjust_brightness_torchvision(img, params["brightness"])
        if params["contrast_first"] and params["contrast"] is not None:
            img = fpixel.adjust_contrast_torchvision(img, params["contrast"])
        if params["saturation"] is not None:
            img = fpixel.adjust_saturation_torchvision(img, params["saturation"])
        if params["hue"] is not None:
            img = fpixel.adjust_hue_torchvision(img, params["hue"])
        if not params["contrast_first"] and params["contrast"] is not None:
            img = fpixel.adjust_contrast_torchvision(img, params["contrast"])
        if params["permutation"] is not None:
            img = np.ascontiguousarray(img[..., params["permutation"]])
        return img

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("brightness", "contrast", "saturation", "hue", "p_each")


class ZoomOut(DualTransform):
    """SSD's zoom-out / "expansion" (SSD paper §3.6): place the image at a random position on a canvas
    ``ratio`` times larger (``ratio ~ U(1, max_ratio)``, 4 in the paper) filled with ``fill`` (the dataset mean,
    in RGB 0..255 units). Creates the small-object examples the paper credits with +2-3 mAP.
    """

    _targets = (Targets.IMAGE, Targets.BBOXES)

    def __init__(self, max_ratio: float = 4.0, fill: Sequence[float] = (123.675, 116.28, 103.53), p: float = 0.5):
        super().__init__(p=p)
        if max_ratio < 1:
            raise ValueError(f"ZoomOut: max_ratio must be >= 1, got {max_ratio}")
        self.max_ratio = float(max_ratio)
        self.fill = tuple(float(v) for v in fill)

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        h, w = params["shape"][:2]
        ratio = self.py_random.uniform(1.0, self.max_ratio)
        nh, nw = int(h * ratio), int(w * ratio)
        top = self.py_random.randint(0, nh - h)
        left = self.py_random.randint(0, nw - w)
        return {"canvas_hw": (nh, nw), "offset": (top, left)}

    def apply(self, img: np.ndarray, canvas_hw: tuple[int, int], offset: tuple[int, int], **params: Any) -> np.ndarray:
        h, w = img.shape[:2]
        canvas = np.empty((canvas_hw[0], canvas_hw[1], img.shape[2]), dtype=img.dtype)
        canvas[...] = np.asarray(self.fill, dtype=np.float32).round().astype(img.dtype)
        canvas[offset[0] : offset[0] + h, offset[1] : offset[1] + w] = img
        return canvas

    def apply_to_bboxes(
        self, bboxes: np.ndarray, canvas_hw: tuple[int, int], offset: tuple[int, int], **params: Any
    ) -> np.ndarray:
        if not bboxes.size:
            return bboxes
        h, w = params["shape"][:2]
        nh, nw = canvas_hw
        out = bboxes.copy()
        out[:, [0, 2]] = (bboxes[:, [0, 2]] * w + offset[1]) / nw
        out[:, [1, 3]] = (bboxes[:, [1, 3]] * h + offset[0]) / nh
        return out

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("max_ratio", "fill")


class MinIoURandomCrop(BaseCrop):
    """SSD's IoU-constrained random crop (SSD paper §2.2, "Data augmentation").

    Each call draws a minimum IoU from ``min_ious`` plus ``None`` (= keep the whole image). Up to ``max_trials``
    candidate crops with sides ``U(min_scale, 1)`` of the image and aspect ratio ``h/w`` within ``aspect_range`` are
    tried; a candidate is accepted when at least one box has its centre inside it and the largest IoU between the
    crop and those boxes is ``>= min_iou`` (the Caffe SSD sampler's "any object" rule, as torchvision's
    ``RandomIoUCrop``). If no candidate passes, another ``min_iou`` is drawn (at most ``max_rounds`` times, then no
    crop). Boxes whose centre falls outside the crop are dropped; the others are clipped to it. Images without
    boxes are not cropped. ``stats`` counts crops made, boxes dropped and boxes clipped (per process).
    """

    def __init__(
        self,
        min_ious: Sequence[float] = (0.1, 0.3, 0.5, 0.7, 0.9),
        min_scale: float = 0.3,
        aspect_range: tuple[float, float] = (0.5, 2.0),
        max_trials: int = 40,
        max_rounds: int = 20,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.min_ious = tuple(float(v) for v in min_ious)
        self.min_scale = float(min_scale)
        self.aspect_range = tuple(float(v) for v in aspect_range)
        self.max_trials = int(max_trials)
        self.max_rounds = int(max_rounds)
        self.stats: Counter = Counter()

    def _sample(self, boxes: np.ndarray, h: int, w: int) -> tuple[int, int, int, int]:
        r = self.py_random
        whole = (0, 0, w, h)
        if len(boxes) == 0:
            return whole
        options: list[float | None] = [*self.min_ious, None]
        cx = (boxes[:, 0] + boxes[:, 2]) * 0.5
        cy = (boxes[:, 1] + boxes[:, 3]) * 0.5
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        for _ in range(self.max_rounds):
            min_iou = r.choice(options)
            if min_iou is None:
                return whole
            for _ in range(self.max_trials):
                cw = int(w * r.uniform(self.min_scale, 1.0))
                ch = int(h * r.uniform(self.min_scale, 1.0))
                if cw < 1 or ch < 1 or not (self.aspect_range[0] <= ch / cw <= self.aspect_range[1]):
                    continue
                left = r.randint(0, w - cw)
                top = r.randint(0, h - ch)
                x2, y2 = left + cw, top + ch
                inside = (cx > left) & (cx < x2) & (cy > top) & (cy < y2)
                if not inside.any():
                    continue
                b = boxes[inside]
                iw = np.clip(np.minimum(b[:, 2], x2) - np.maximum(b[:, 0], left), 0, None)
                ih = np.clip(np.minimum(b[:, 3], y2) - np.maximum(b[:, 1], top), 0, None)
                inter = iw * ih
                iou = inter / (areas[inside] + cw * ch - inter)
                if iou.max() >= min_iou:
                    return (left, top, x2, y2)
        return whole

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        h, w = params["shape"][:2]
        bboxes = data.get("bboxes")
        boxes = (
            denormalize_bboxes(np.asarray(bboxes, dtype=np.float32)[:, :4], (h, w))
            if bboxes is not None and len(bboxes)
            else np.zeros((0, 4), np.float32)
        )
        return {"crop_coords": self._sample(boxes, h, w)}

    def apply_to_bboxes(self, bboxes: np.ndarray, crop_coords: tuple[int, int, int, int], **params: Any) -> np.ndarray:
        h, w = params["shape"][:2]
        if not bboxes.size or crop_coords == (0, 0, w, h):
            return bboxes
        x1, y1, x2, y2 = crop_coords
        px = denormalize_bboxes(bboxes[:, :4].astype(np.float32), (h, w))
        cx = (px[:, 0] + px[:, 2]) * 0.5
        cy = (px[:, 1] + px[:, 3]) * 0.5
        keep = (cx > x1) & (cx < x2) & (cy > y1) & (cy < y2)
        kept = px[keep]
        clipped = (kept[:, 0] < x1) | (kept[:, 1] < y1) | (kept[:, 2] > x2) | (kept[:, 3] > y2)
        self.stats.update(crops=1, boxes_dropped=int((~keep).sum()), boxes_clipped=int(clipped.sum()))
        out = fcrops.crop_bboxes_by_coords(bboxes[keep], crop_coords, (h, w))
        out[:, :4] = np.clip(out[:, :4], 0.0, 1.0)
        return out

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("min_ious", "min_scale", "aspect_range", "max_trials", "max_rounds")


class ResizeShortestEdge(DualTransform):
    """Aspect-preserving resize for Faster R-CNN (Ren et al., NeurIPS 2015, §3.3: "re-scale the images such that
    their shorter side is s"; the ShuffleNet paper's Table 7 uses s = 300 / 600): scale so the shorter side becomes
    ``short``, unless that makes the longer side exceed ``max_long``, in which case the longer side becomes
    ``max_long``. Boxes are carried in normalised coordinates, so they follow the image exactly.
    """

    _targets = (Targets.IMAGE, Targets.MASK, Targets.BBOXES)

    def __init__(self, short: int = 600, max_long: int = 1000, interpolation: int = cv2.INTER_LINEAR, p: float = 1.0):
        super().__init__(p=p)
        if short <= 0 or max_long <= 0:
            raise ValueError(f"ResizeShortestEdge: short and max_long must be > 0, got {short}, {max_long}")
        self.short = int(short)
        self.max_long = int(max_long)
        self.interpolation = interpolation

    @staticmethod
    def target_size(h: int, w: int, short: int, max_long: int) -> tuple[int, int]:
        """Output ``(h, w)`` for an input of ``(h, w)``."""
        scale = min(short / min(h, w), max_long / max(h, w))
        return max(1, int(round(h * scale))), max(1, int(round(w * scale)))

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        h, w = params["shape"][:2]
        return {"size_hw": self.target_size(h, w, self.short, self.max_long)}

    def apply(self, img: np.ndarray, size_hw: tuple[int, int], **params: Any) -> np.ndarray:
        return fgeometric.resize(img, size_hw, interpolation=self.interpolation)

    def apply_to_mask(self, mask: np.ndarray, size_hw: tuple[int, int], **params: Any) -> np.ndarray:
        return fgeometric.resize(mask, size_hw, interpolation=cv2.INTER_NEAREST)

    def apply_to_bboxes(self, bboxes: np.ndarray, **params: Any) -> np.ndarray:
        return bboxes

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("short", "max_long", "interpolation")
