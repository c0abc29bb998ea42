"""``PackDetInputs``: the last step of a detection pipeline, producing docs/design.md's sample dict."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ...registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackDetInputs:
    """Turn a pipeline's working dict into ``dict(inputs=uint8 Tensor[3, H, W], data_samples=dict(...))``.

    ``data_samples`` holds exactly the detection keys of docs/design.md: ``img_id``, ``img_path``, ``ori_shape``,
    ``img_shape``, ``scale_factor`` (``(sx, sy) = img_shape / ori_shape``, exact for resize-only pipelines),
    ``gt_boxes`` (float32 ``[N, 4]`` xyxy in ``img_shape`` pixels, crowd boxes already excluded by the dataset),
    ``gt_labels`` (int64 ``[N]``) and ``flip``. ``meta_keys`` adds further keys when present.
    """

    def __init__(self, meta_keys: tuple[str, ...] = ()) -> None:
        self.meta_keys = tuple(meta_keys)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img = results["img"]
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(
                f"{results.get('img_path')}: PackDetInputs expects an H x W x 3 uint8 image, got shape "
                f"{img.shape} dtype {img.dtype}"
            )
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        oh, ow = (int(v) for v in results["ori_shape"])
        h, w = int(img.shape[0]), int(img.shape[1])
        boxes = np.asarray(results.get("gt_boxes", np.zeros((0, 4))), dtype=np.float32).reshape(-1, 4)
        labels = np.asarray(results.get("gt_labels", np.zeros((0,))), dtype=np.int64).reshape(-1)
        sample = {
            "img_id": int(results["img_id"]) if "img_id" in results else None,
            "img_path": results.get("img_path"),
            "ori_shape": (oh, ow),
            "img_shape": (h, w),
            "scale_factor": (w / ow, h / oh),
            "gt_boxes": torch.from_numpy(boxes.copy()),
            "gt_labels": torch.from_numpy(labels.copy()),
            "flip": bool(results.get("flip", False)),
        }
        for key in self.meta_keys:
            if key in results:
                sample[key] = results[key]
        return {"inputs": inputs, "data_samples": sample}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(meta_keys={self.meta_keys})"
