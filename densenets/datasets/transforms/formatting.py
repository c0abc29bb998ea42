"""Packing steps, the last step of every pipeline: the working dict -> docs/design.md's ``inputs``/``data_samples``.

:class:`PackInputs` packs the image and the keys both tasks share (``img_path``, ``ori_shape``, ``img_shape``,
``flip``); :class:`PackDetInputs` adds the detection targets, :class:`PackSegInputs` the segmentation ones.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ...registry import TRANSFORMS

__all__ = ["PackDetInputs", "PackInputs", "PackSegInputs"]


class PackInputs:
    """``inputs``: the ``H x W x 3`` uint8 RGB image as a ``uint8 Tensor[3, H, W]``; ``data_samples``: ``img_path``,
    ``ori_shape``, ``img_shape`` (the packed image's size), ``flip``, the task's keys (:meth:`task_keys`) and the
    ``meta_keys`` present in the working dict."""

    def __init__(self, meta_keys: tuple[str, ...] = ()) -> None:
        self.meta_keys = tuple(meta_keys)

    def task_keys(self, results: dict[str, Any], sample: dict[str, Any]) -> None:
        """Add the task's keys to ``sample`` (nothing here)."""

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img = results["img"]
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(
                f"{results.get('img_path')}: {type(self).__name__} expects an H x W x 3 uint8 image, got shape "
                f"{img.shape} dtype {img.dtype}"
            )
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        sample: dict[str, Any] = {
            "img_path": results.get("img_path"),
            "ori_shape": tuple(int(v) for v in results["ori_shape"]),
            "img_shape": (int(img.shape[0]), int(img.shape[1])),
        }
        self.task_keys(results, sample)
        sample["flip"] = bool(results.get("flip", False))
        for key in self.meta_keys:
            if key in results:
                sample[key] = results[key]
        return {"inputs": inputs, "data_samples": sample}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(meta_keys={self.meta_keys})"


@TRANSFORMS.register_module()
class PackDetInputs(PackInputs):
    """Detection: adds ``img_id``, ``scale_factor`` (``(sx, sy) = img_shape / ori_shape``, exact for resize-only
    pipelines), ``gt_boxes`` (float32 ``[N, 4]`` xyxy in ``img_shape`` pixels, crowd boxes already excluded by the
    dataset) and ``gt_labels`` (int64 ``[N]``)."""

    def task_keys(self, results: dict[str, Any], sample: dict[str, Any]) -> None:
        (oh, ow), (h, w) = sample["ori_shape"], sample["img_shape"]
        boxes = np.asarray(results.get("gt_boxes", np.zeros((0, 4))), dtype=np.float32).reshape(-1, 4)
        labels = np.asarray(results.get("gt_labels", np.zeros((0,))), dtype=np.int64).reshape(-1)
        sample["img_id"] = int(results["img_id"]) if "img_id" in results else None
        sample["scale_factor"] = (w / ow, h / oh)
        sample["gt_boxes"] = torch.from_numpy(boxes.copy())
        sample["gt_labels"] = torch.from_numpy(labels.copy())


@TRANSFORMS.register_module()
class PackSegInputs(PackInputs):
    """Segmentation: adds ``seg_map_path``, ``gt_sem_seg`` (int64 ``[H, W]`` trainIds, 255 = ignore) and
    ``gt_instance`` (int32 ``[H, W]`` instanceIds), each when the sample has it (the test split has no labels)."""

    def task_keys(self, results: dict[str, Any], sample: dict[str, Any]) -> None:
        if "seg_map_path" in results:
            sample["seg_map_path"] = results["seg_map_path"]
        if "gt_seg_map" in results:
            sample["gt_sem_seg"] = torch.from_numpy(np.ascontiguousarray(results["gt_seg_map"]).astype(np.int64))
        if "gt_instance" in results:
            sample["gt_instance"] = torch.from_numpy(np.ascontiguousarray(results["gt_instance"], dtype=np.int32))
