"""The one ground-truth validator for COCO-format annotations: which records are malformed, which boxes are usable.

Used by :class:`~densenets.datasets.CocoDetection` (what it trains on) and by
:class:`~densenets.evaluation.CocoMetric` (how many ground-truth boxes the official scoring counts although no
detection can match them, and the ``gt_boxes='cleaned'`` option), so both apply the same rules.

- A **malformed** record is an error naming the annotation file and the record (:class:`AnnotationError`): an image
  without an integer ``id``, a ``file_name``, or positive integer ``width``/``height``; an annotation without
  ``id`` / ``image_id`` / ``category_id`` / ``bbox``, whose ``bbox`` is not 4 numbers, whose ``area`` (optional)
  is not a number or ``iscrowd`` (optional) not 0/1, or that points to an image not in ``images``; a category
  without an integer ``id`` and a ``name``.
- A well-formed box is **unusable** (:data:`UNUSABLE` reasons) when a coordinate is not finite, its width or height
  is ≤ 0, or it lies entirely outside its image; it is **clipped** to the image when partly outside.

An **image-info** file lists ``images`` and ``categories`` but no ``annotations`` (COCO's
``image_info_test-dev2017.json`` / ``image_info_test2017.json``: the test splits, whose ground truth only the evaluation
server has). It can only be predicted on and the detections written for the server: :func:`read_coco_json` reads it
with ``image_info_ok=True`` (a ``test_mode`` dataset, ``CocoMetric(format_only=True)``) and otherwise refuses it with
a message that says so, instead of training on no objects or scoring against none.

COCO's own boxes are ``[x, y, w, h]`` in pixels, ``(x, y)`` the top-left corner (Lin et al., ECCV 2014; the format
pycocotools reads).
"""
from __future__ import annotations

import json
import math
import numbers
from typing import Any, Mapping

__all__ = ["AnnotationError", "CLIPPED", "NON_FINITE", "OUTSIDE", "UNUSABLE", "ZERO_SIZE", "check_box",
           "check_image", "check_annotation", "is_image_info", "read_coco_json"]

ZERO_SIZE = "boxes with zero/negative size dropped"
NON_FINITE = "boxes with non-finite coordinates dropped"
OUTSIDE = "boxes entirely outside the image dropped"
CLIPPED = "boxes partly outside the image clipped"
#: the reasons a well-formed box cannot be a target (and no detection can match it)
UNUSABLE: tuple[str, ...] = (NON_FINITE, ZERO_SIZE, OUTSIDE)


class AnnotationError(ValueError):
    """A malformed record of a COCO annotation file; the message names the file and the record."""


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _is_int(v: Any) -> bool:
    return _is_number(v) and float(v).is_integer()


def check_image(info: Any, ann_file: str, index: int) -> tuple[int, str, int, int]:
    """``(id, file_name, height, width)`` of an ``images`` record, or :class:`AnnotationError`."""
    where = f"{ann_file}: images[{index}]"
    if not isinstance(info, Mapping):
        raise AnnotationError(f"{where} is a {type(info).__name__}, not a record")
    where += f" (id {info.get('id')!r}, {info.get('file_name')!r})"
    if not _is_int(info.get("id")):
        raise AnnotationError(f"{where}: 'id' must be an integer")
    name = info.get("file_name")
    if not isinstance(name, str) or not name:
        raise AnnotationError(f"{where}: no 'file_name'")
    for key in ("width", "height"):
        if key not in info:
            raise AnnotationError(f"{where}: no '{key}'")
        if not _is_int(info[key]) or info[key] <= 0:
            raise AnnotationError(f"{where}: '{key}' must be a positive integer, got {info[key]!r}")
    return int(info["id"]), name, int(info["height"]), int(info["width"])


def check_annotation(ann: Any, ann_file: str, index: int, image_ids: Any) -> tuple[int, Any, list[float]]:
    """``(image_id, category_id, bbox)`` of an ``annotations`` record, or :class:`AnnotationError`.

    ``bbox`` comes back as 4 floats (possibly non-finite or of zero size: see :func:`check_box`).
    """
    where = f"{ann_file}: annotations[{index}]"
    if not isinstance(ann, Mapping):
        raise AnnotationError(f"{where} is a {type(ann).__name__}, not a record")
    where += f" (id {ann.get('id')!r}, image {ann.get('image_id')!r})"
    for key in ("id", "image_id", "category_id", "bbox"):
        if key not in ann:
            raise AnnotationError(f"{where}: no '{key}'")
    if not _is_int(ann["id"]):
        raise AnnotationError(f"{where}: 'id' must be an integer")
    if "area" in ann and not _is_number(ann["area"]):
        raise AnnotationError(f"{where}: 'area' must be a number, got {ann['area']!r}")
    if ann.get("iscrowd", 0) not in (0, 1):  # True/False compare equal to 1/0
        raise AnnotationError(f"{where}: 'iscrowd' must be 0 or 1, got {ann['iscrowd']!r}")
    if ann["image_id"] not in image_ids:
        raise AnnotationError(f"{where}: image_id {ann['image_id']!r} is not in 'images'")
    bbox = ann["bbox"]
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4 or not all(_is_number(v) for v in bbox):
        raise AnnotationError(f"{where}: 'bbox' must be 4 numbers [x, y, width, height], got {bbox!r}")
    return ann["image_id"], ann["category_id"], [float(v) for v in bbox]


def check_box(bbox: list[float], height: int,
              width: int) -> tuple[tuple[float, float, float, float] | None, str | None]:
    """``(xyxy box or None, reason or None)``: ``None`` box with an :data:`UNUSABLE` reason, a clipped box with
    :data:`CLIPPED`, or the box unchanged with no reason."""
    x, y, bw, bh = bbox
    if not all(math.isfinite(v) for v in bbox):
        return None, NON_FINITE
    if bw <= 0 or bh <= 0:
        return None, ZERO_SIZE
    x1, y1, x2, y2 = x, y, x + bw, y + bh
    if x2 <= 0 or y2 <= 0 or x1 >= width or y1 >= height:
        return None, OUTSIDE
    if x1 < 0 or y1 < 0 or x2 > width or y2 > height:
        return (max(x1, 0.0), max(y1, 0.0), min(x2, float(width)), min(y2, float(height))), CLIPPED
    return (x1, y1, x2, y2), None


def is_image_info(dataset: Mapping) -> bool:
    """Whether a COCO json read by :func:`read_coco_json` is an image-info file (no ``annotations``)."""
    return "annotations" not in dataset


def read_coco_json(ann_file: str, image_info_ok: bool = False) -> dict:
    """Read a COCO detection json and check every record (:func:`check_image`, :func:`check_annotation`, the
    categories) before pycocotools indexes it — its ``createIndex`` fails with a bare ``KeyError`` on a record without
    ``id`` / ``image_id``. Errors name the file and the record. An image-info file (no ``annotations``; see the
    module docstring) is returned as it is with ``image_info_ok=True`` and is an error otherwise."""
    try:
        with open(ann_file, encoding="utf-8") as f:
            dataset = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise AnnotationError(f"{ann_file}: cannot read the COCO annotation file ({e})") from e
    if not isinstance(dataset, dict) or not all(k in dataset for k in ("images", "categories")):
        raise AnnotationError(
            f"{ann_file}: not a COCO detection file (needs the keys 'images', 'annotations', 'categories')")
    if is_image_info(dataset) and not image_info_ok:
        raise AnnotationError(
            f"{ann_file}: an image-info file (images and categories, no 'annotations'; COCO's test-dev / test2017 "
            "files are such): there is no ground truth to train on or to score against. Its images can only be "
            "predicted on and the detections written for the evaluation server: tools/test.py CONFIG CHECKPOINT "
            "--format-only --out-dir DIR with this file as test_dataloader.dataset.ann_file")
    for key in ("images", "annotations", "categories"):
        if key in dataset and not isinstance(dataset[key], list):
            raise AnnotationError(f"{ann_file}: '{key}' must be a list, got {type(dataset[key]).__name__}")
    for i, cat in enumerate(dataset["categories"]):
        if not isinstance(cat, Mapping) or not _is_int(cat.get("id")) or not isinstance(cat.get("name"), str):
            raise AnnotationError(f"{ann_file}: categories[{i}] needs an integer 'id' and a 'name', got {cat!r}")
    image_ids = {check_image(info, ann_file, i)[0] for i, info in enumerate(dataset["images"])}
    for i, ann in enumerate(dataset.get("annotations", ())):
        check_annotation(ann, ann_file, i, image_ids)
    return dataset
