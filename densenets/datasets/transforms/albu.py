"""``Albumentations``: run a list of albumentations transforms (configured as dicts) on image + boxes + labels."""
from __future__ import annotations

import os
import warnings
from collections import Counter
from typing import Any, Sequence

import albumentations as A
import numpy as np
import torch

from ...registry import TRANSFORMS
from . import albu_ops

FLIP_NAMES = frozenset({"HorizontalFlip"})


class ProcessReseeder:
    """Re-seed an ``A.Compose`` from ``torch.initial_seed()`` (+ ``salt``) the first time it runs in a process.

    albumentations keeps its own random state, which forked dataloader workers would share; ``torch.initial_seed()``
    is what mmengine derives from ``randomness.seed``, the rank and the worker id, so runs are reproducible and
    workers do not repeat each other. ``salt`` gives different steps of one pipeline different streams.
    """

    def __init__(self, compose: A.Compose, salt: int = 0) -> None:
        self.compose, self.salt = compose, int(salt)
        self._pid: int | None = None

    def __call__(self) -> None:
        pid = os.getpid()
        if pid != self._pid:
            self._pid = pid
            self.compose.set_random_seed(int((torch.initial_seed() + self.salt) % (2**32)))


def applied_names(out: dict[str, Any]) -> set[str]:
    """Names of the transforms an ``A.Compose(save_applied_params=True)`` call applied."""
    return {name for name, _ in out.get("applied_transforms", ())}


def track_flip(results: dict[str, Any], applied: set[str]) -> None:
    """Toggle ``results["flip"]`` when a horizontal flip was applied (two flips cancel)."""
    results["flip"] = bool(results.get("flip", False)) ^ bool(applied & FLIP_NAMES)


def build_albu(cfg: dict[str, Any] | A.BasicTransform) -> A.BasicTransform:
    """Build one albumentations transform from ``dict(type=name, **kwargs)``; names are looked up in
    :mod:`densenets.datasets.transforms.albu_ops` first, then in ``albumentations``."""
    if not isinstance(cfg, dict):
        return cfg
    cfg = dict(cfg)
    name = cfg.pop("type")
    cls = getattr(albu_ops, name, None) or getattr(A, name, None)
    if cls is None:
        raise KeyError(f"Albumentations: unknown transform {name!r} (not in densenets' albu_ops nor albumentations)")
    if "transforms" in cfg:  # OneOf, SomeOf, Sequential ...
        cfg["transforms"] = [build_albu(t) for t in cfg["transforms"]]
    return cls(**cfg)


@TRANSFORMS.register_module()
class Albumentations:
    """Apply ``A.Compose(transforms)`` to ``results["img"]`` with boxes in **pascal_voc** format (xyxy pixels) and
    the labels carried along; boxes clipped to zero size or pushed out of the image are dropped, the rest clipped to
    the image (``BboxParams(clip=True)``).

    Writes back ``img``, ``img_shape``, ``gt_boxes``, ``gt_labels`` and ``flip`` (True when a horizontal flip was
    applied). ``stats`` counts images, boxes in and boxes dropped by the augmentation (per worker process). The
    albumentations random state is re-seeded from ``torch.initial_seed()`` the first time it runs in a new process,
    so dataloader workers (which fork the same state) do not repeat each other's augmentations and mmengine's
    ``randomness.seed`` keeps runs reproducible.

    Example config::

        dict(type="Albumentations", transforms=[dict(type="HorizontalFlip", p=0.5),
                                                dict(type="Resize", height=320, width=320)])
    """

    def __init__(self, transforms: Sequence[dict[str, Any] | A.BasicTransform], min_size: float = 0.0) -> None:
        self.transforms_cfg = list(transforms)
        self.min_size = float(min_size)
        with warnings.catch_warnings():  # image-only lists: albumentations warns that no transform uses the boxes
            warnings.filterwarnings("ignore", message="Got processor for bboxes")
            self.compose = self._compose()
        self.stats: Counter = Counter()
        self._reseed = ProcessReseeder(self.compose)

    def _compose(self) -> A.Compose:
        return A.Compose(
            [build_albu(t) for t in self.transforms_cfg],
            bbox_params=A.BboxParams(
                format="pascal_voc",
                label_fields=["gt_labels", "box_ids"],
                clip=True,
                min_width=self.min_size,
                min_height=self.min_size,
            ),
            save_applied_params=True,
        )

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        self._reseed()
        boxes = np.asarray(results.get("gt_boxes", np.zeros((0, 4))), dtype=np.float32).reshape(-1, 4)
        labels = np.asarray(results.get("gt_labels", np.zeros((0,))), dtype=np.int64).reshape(-1)
        ids = np.arange(len(boxes))
        out = self.compose(image=results["img"], bboxes=boxes, gt_labels=labels, box_ids=ids)
        img = out["image"]
        new_boxes = np.asarray(out["bboxes"], dtype=np.float32).reshape(-1, 4)
        results["img"] = img
        results["img_shape"] = img.shape[:2]
        results["gt_boxes"] = new_boxes
        results["gt_labels"] = np.asarray(out["gt_labels"], dtype=np.int64).reshape(-1)
        track_flip(results, applied_names(out))
        self.stats.update(images=1, boxes_in=len(boxes), boxes_dropped=len(boxes) - len(new_boxes))
        return results

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.compose.transforms!r})"
