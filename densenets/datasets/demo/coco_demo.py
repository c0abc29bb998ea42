"""A small synthetic detection dataset in COCO's exact on-disk format, for demos and tests without COCO.

Layout written under ``out``::

    annotations/instances_train2017.json   annotations/instances_val2017.json
    train2017/000000000001.jpg ...         val2017/000000100001.jpg ...

Each json has ``info``, ``licenses``, ``images``, ``annotations`` (``bbox`` xywh, ``area``, ``iscrowd``,
polygon ``segmentation``; crowd regions carry an RLE) and ``categories``. Six shape categories with COCO-like gapped
ids; objects of varied size (COCO's small < 32^2 <= medium < 96^2 <= large, by area), colour and overlap on
cluttered backgrounds (colour gradients, noise, distractor lines and outlines), some crowd regions (clusters of tiny
shapes annotated once with ``iscrowd=1``) and some images without objects. Every image is drawn from its own
random stream seeded by ``(seed, split, index)``, so the bytes are the same for the same seed and an image does not
change when the number of images does.
"""
from __future__ import annotations

import json
import math
import os
from typing import Any

import numpy as np
from PIL import Image, ImageDraw
from pycocotools import mask as mask_utils

__all__ = ["DEMO_CATEGORIES", "make_coco_demo", "make_tiny_coco_demo"]

#: (id, name): ids with gaps like COCO's, so the contiguous-label mapping is exercised
DEMO_CATEGORIES: tuple[tuple[int, str], ...] = (
    (1, "circle"),
    (2, "square"),
    (3, "triangle"),
    (5, "star"),
    (7, "ring"),
    (9, "cross"),
)
_SPLITS = {"train2017": (0, 1), "val2017": (1, 100001)}  # split -> (stream id, first image id)
_SIZE_BINS = ((0.2, 14, 30), (0.5, 34, 90), (0.3, 100, 170))  # (probability, min side, max side) small/medium/large
_P_EMPTY = 0.08
_P_CROWD = 0.08
_DATE = "2026-01-01 00:00:00"


def _unit_outline(kind: str, rng: np.random.Generator) -> np.ndarray:
    """Polygon of the shape in the box [-1, 1]^2."""
    if kind in ("circle", "ring"):
        t = np.linspace(0, 2 * np.pi, 32, endpoint=False)
        poly = np.stack([np.cos(t), np.sin(t)], 1)
    elif kind == "square":
        poly = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], float)
    elif kind == "triangle":
        poly = np.array([[0, -1], [1, 1], [-1, 1]], float)
        poly = poly @ _rot90(int(rng.integers(4)))
    elif kind == "star":
        t = np.linspace(0, 2 * np.pi, 10, endpoint=False) + rng.uniform(0, 2 * np.pi / 5)
        r = np.where(np.arange(10) % 2 == 0, 1.0, 0.45)
        poly = np.stack([r * np.cos(t), r * np.sin(t)], 1)
        poly = poly / np.abs(poly).max(0)
    elif kind == "cross":
        a = 0.33
        poly = np.array(
            [[-a, -1], [a, -1], [a, -a], [1, -a], [1, a], [a, a],
             [a, 1], [-a, 1], [-a, a], [-1, a], [-1, -a], [-a, -a]],
            float,
        )
    else:
        raise ValueError(kind)
    return poly


def _rot90(k: int) -> np.ndarray:
    c, s = [(1, 0), (0, 1), (-1, 0), (0, -1)][k]
    return np.array([[c, -s], [s, c]], float)


def _poly_area(p: np.ndarray) -> float:
    x, y = p[:, 0], p[:, 1]
    return float(abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))) / 2)


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of one xyxy box ``a`` against boxes ``b`` [N, 4]."""
    if not len(b):
        return np.zeros(0)
    iw = np.clip(np.minimum(a[2], b[:, 2]) - np.maximum(a[0], b[:, 0]), 0, None)
    ih = np.clip(np.minimum(a[3], b[:, 3]) - np.maximum(a[1], b[:, 1]), 0, None)
    inter = iw * ih
    area = lambda r: (r[..., 2] - r[..., 0]) * (r[..., 3] - r[..., 1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def _background(rng: np.random.Generator, h: int, w: int) -> Image.Image:
    c0, c1 = rng.uniform(40, 215, 3).astype(np.float32), rng.uniform(40, 215, 3).astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    tx = (np.cos(angle) / w * np.arange(w, dtype=np.float32))[None, :]
    ty = (np.sin(angle) / h * np.arange(h, dtype=np.float32))[:, None]
    t = ((tx + ty + 1.0) * 0.5)[..., None]
    img = c0 + (c1 - c0) * t
    img += rng.standard_normal((h, w, 1), dtype=np.float32) * np.float32(rng.uniform(4, 14))  # luminance noise
    img += rng.standard_normal((h, w, 3), dtype=np.float32) * np.float32(4)  # colour noise
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(pil)
    for _ in range(int(rng.integers(3, 10))):  # distractor lines and arcs
        col = tuple(int(v) for v in rng.integers(0, 256, 3))
        pts = rng.uniform(0, 1, 4) * [w, h, w, h]
        if rng.random() < 0.7:
            draw.line([tuple(pts[:2]), tuple(pts[2:])], fill=col, width=int(rng.integers(1, 4)))
        else:
            x0, x1 = sorted(pts[[0, 2]])
            y0, y1 = sorted(pts[[1, 3]])
            draw.arc([x0, y0, x1 + 1, y1 + 1], rng.uniform(0, 360), rng.uniform(0, 360), fill=col, width=2)
    return pil


def _object_color(rng: np.random.Generator) -> tuple[int, int, int]:
    hue = rng.uniform(0, 1)
    rgb = np.array([abs(hue * 6 - 3) - 1, 2 - abs(hue * 6 - 2), 2 - abs(hue * 6 - 4)]).clip(0, 1)
    value = rng.uniform(0.55, 1.0)
    rgb = (rgb * 0.85 + 0.15) * value * 255
    if rng.random() < 0.15:  # some near-black / near-white objects
        rgb = np.full(3, 20.0 if rng.random() < 0.5 else 240.0)
    return tuple(int(v) for v in rgb)


def _draw_shape(
    draw: ImageDraw.ImageDraw, kind: str, box: np.ndarray, color: tuple[int, int, int], rng: np.random.Generator
) -> tuple[list[float], float]:
    """Draw ``kind`` filling ``box`` (xyxy); returns the polygon (flat, COCO style) and the object's area."""
    x0, y0, x1, y1 = box
    cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    unit = _unit_outline(kind, rng)
    poly = np.stack([cx + unit[:, 0] * hw, cy + unit[:, 1] * hh], 1)
    area = _poly_area(poly)
    if kind == "ring":
        width = max(2, int(round(min(hw, hh) * rng.uniform(0.3, 0.5))))
        draw.ellipse([x0, y0, x1 - 1, y1 - 1], outline=color, width=width)
        inner = math.pi * max(hw - width, 0) * max(hh - width, 0)
        area = max(area - inner, 1.0)
    else:
        draw.polygon([tuple(p) for p in poly], fill=color)
    return [round(float(v), 2) for v in poly.reshape(-1)], round(area, 2)


def _sample_box(rng: np.random.Generator, h: int, w: int, side_range: tuple[float, float]) -> np.ndarray:
    side = rng.uniform(*side_range)
    aspect = math.exp(rng.uniform(math.log(0.6), math.log(1.6)))
    bw = min(side * math.sqrt(aspect), w - 2)
    bh = min(side / math.sqrt(aspect), h - 2)
    x0 = rng.uniform(0, w - bw)
    y0 = rng.uniform(0, h - bh)
    return np.array([x0, y0, x0 + bw, y0 + bh])


def _make_image(
    rng: np.random.Generator, img_id: int, width: int, height_range: tuple[int, int], index: int
) -> tuple[Any, ...]:
    h = int(rng.integers(height_range[0] // 8, height_range[1] // 8 + 1)) * 8
    w = width
    pil = _background(rng, h, w)
    draw = ImageDraw.Draw(pil)
    anns: list[dict[str, Any]] = []
    names = [n for _, n in DEMO_CATEGORIES]
    ids = {n: i for i, n in DEMO_CATEGORIES}

    # every split of >= 4 images has a crowd (index 2 of each 12) and an empty image (index 3 of each 12)
    if rng.random() < _P_CROWD or index % 12 == 2:  # a crowd: a cluster of tiny shapes of one category, annotated once
        kind = names[int(rng.integers(len(names)))]
        cw, ch = rng.uniform(50, 110), rng.uniform(40, 90)
        cx0, cy0 = rng.uniform(0, w - cw), rng.uniform(0, h - ch)
        color = _object_color(rng)
        for _ in range(int(rng.integers(8, 16))):
            s = rng.uniform(5, 11)
            bx, by = rng.uniform(cx0, cx0 + cw - s), rng.uniform(cy0, cy0 + ch - s)
            _draw_shape(draw, kind, np.array([bx, by, bx + s, by + s]), color, rng)
        m = np.zeros((h, w), np.uint8, order="F")
        m[int(cy0) : int(math.ceil(cy0 + ch)), int(cx0) : int(math.ceil(cx0 + cw))] = 1
        rle = mask_utils.encode(m)
        x, y, bw, bh = (float(v) for v in mask_utils.toBbox(rle))
        anns.append(
            {
                "image_id": img_id,
                "category_id": ids[kind],
                "bbox": [x, y, bw, bh],
                "area": float(mask_utils.area(rle)),
                "iscrowd": 1,
                "segmentation": {"size": [h, w], "counts": rle["counts"].decode("ascii")},
            }
        )

    n_obj = 0 if (rng.random() < _P_EMPTY or index % 12 == 3) else int(rng.integers(1, 7))
    placed = [np.array([x, y, x + bw, y + bh]) for x, y, bw, bh in (a["bbox"] for a in anns)]
    probs = np.array([b[0] for b in _SIZE_BINS])
    for _ in range(n_obj):
        size_bin = _SIZE_BINS[int(rng.choice(len(_SIZE_BINS), p=probs / probs.sum()))]
        for _attempt in range(20):  # overlap allowed, but not near-duplicates
            box = _sample_box(rng, h, w, size_bin[1:])
            if not len(placed) or _iou(box, np.stack(placed)).max() < 0.35:
                break
        else:
            continue
        kind = names[int(rng.integers(len(names)))]
        seg, area = _draw_shape(draw, kind, box, _object_color(rng), rng)
        placed.append(box)
        x0, y0, x1, y1 = (round(float(v), 2) for v in box)
        anns.append(
            {
                "image_id": img_id,
                "category_id": ids[kind],
                "bbox": [x0, y0, round(x1 - x0, 2), round(y1 - y0, 2)],
                "area": area,
                "iscrowd": 0,
                "segmentation": [seg],
            }
        )
    return pil, h, w, anns


def _write_split(out: str, split: str, num: int, seed: int, width: int, height_range: tuple[int, int]) -> str:
    stream, first_id = _SPLITS[split]
    img_dir = os.path.join(out, split)
    os.makedirs(img_dir, exist_ok=True)
    images, annotations = [], []
    for i in range(num):
        rng = np.random.default_rng([seed, stream, i])
        img_id = first_id + i
        pil, h, w, anns = _make_image(rng, img_id, width, height_range, i)
        file_name = f"{img_id:012d}.jpg"
        pil.save(os.path.join(img_dir, file_name), format="JPEG", quality=90)
        images.append(
            {"id": img_id, "file_name": file_name, "height": h, "width": w, "license": 1, "date_captured": _DATE}
        )
        for ann in anns:
            ann["id"] = len(annotations) + 1 + stream * 10_000_000
            annotations.append(ann)
    doc = {
        "info": {
            "description": "densenets synthetic COCO-format demo data",
            "version": "1.0",
            "year": 2026,
            "contributor": "densenets",
            "url": "",
            "date_created": _DATE,
        },
        "licenses": [{"id": 1, "name": "CC0 1.0", "url": "https://creativecommons.org/publicdomain/zero/1.0/"}],
        "images": images,
        "annotations": annotations,
        "categories": [{"id": cid, "name": name, "supercategory": "shape"} for cid, name in DEMO_CATEGORIES],
    }
    ann_dir = os.path.join(out, "annotations")
    os.makedirs(ann_dir, exist_ok=True)
    ann_path = os.path.join(ann_dir, f"instances_{split}.json")
    with open(ann_path, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    return ann_path


def make_coco_demo(
    out: str,
    num_train: int = 300,
    num_val: int = 60,
    seed: int = 0,
    width: int = 320,
    height_range: tuple[int, int] = (240, 400),
) -> dict[str, str]:
    """Write the demo dataset under ``out``; returns the paths of the two annotation files."""
    if num_train < 0 or num_val < 0:
        raise ValueError(f"make_coco_demo: image counts must be >= 0, got {num_train}, {num_val}")
    return {
        "train": _write_split(out, "train2017", num_train, seed, width, height_range),
        "val": _write_split(out, "val2017", num_val, seed, width, height_range),
    }


def make_tiny_coco_demo(out: str, seed: int = 0, num_train: int = 8, num_val: int = 4) -> dict[str, str]:
    """A few-image version of :func:`make_coco_demo` for tests (a fraction of a second)."""
    return make_coco_demo(out, num_train=num_train, num_val=num_val, seed=seed)
