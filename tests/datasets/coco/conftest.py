"""Fixtures for the COCO data tests: a tiny generated demo set and a hand-made COCO file with bad input."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from PIL import Image

from densenets.datasets.demo import make_tiny_coco_demo


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    init_default_scope("densenets")
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_coco(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``make_tiny_coco_demo`` output: 12 train and 6 val images (crowds and empty images included, seed 0)."""
    root = tmp_path_factory.mktemp("tiny_coco")
    make_tiny_coco_demo(str(root), seed=0, num_train=12, num_val=6)
    return root


def _img(path: Path, arr: np.ndarray, mode: str | None = None, fmt: str | None = None, **save: Any) -> None:
    img = Image.fromarray(arr, mode) if mode else Image.fromarray(arr)
    img.save(path, format=fmt, **save)


@pytest.fixture
def make_coco(tmp_path: Path) -> Callable[..., Path]:
    """Write a COCO json with the given images/annotations under ``tmp_path`` (images under ``img/``).

    ``images``: list of ``(file_name, height, width)``; files not written by the caller are drawn as 40x60 RGB JPEGs
    only when ``write_missing=True``.
    """

    def make(images: list[tuple[str, int, int]], anns: list[dict], cats=((1, "a"), (3, "b")),
             write_missing: bool = True) -> Path:
        (tmp_path / "img").mkdir(exist_ok=True)
        for name, h, w in images:
            p = tmp_path / "img" / name
            if write_missing and not p.exists():
                _img(p, np.full((h, w, 3), 100, np.uint8), fmt="JPEG")
        doc = {
            "images": [{"id": i + 1, "file_name": n, "height": h, "width": w} for i, (n, h, w) in enumerate(images)],
            "annotations": [
                {"id": k + 1, "iscrowd": 0, "area": a["bbox"][2] * a["bbox"][3], **a} for k, a in enumerate(anns)
            ],
            "categories": [{"id": c, "name": n} for c, n in cats],
        }
        path = tmp_path / "ann.json"
        path.write_text(json.dumps(doc))
        return path

    return make


@pytest.fixture
def write_image(tmp_path: Path) -> Callable[..., Path]:
    def write(name: str, arr: np.ndarray, mode: str | None = None, fmt: str | None = None, **save: Any) -> Path:
        (tmp_path / "img").mkdir(exist_ok=True)
        p = tmp_path / "img" / name
        _img(p, arr, mode, fmt, **save)
        return p

    return write


def build_coco(ann: Path, **kw: Any):
    from densenets.datasets import CocoDetection

    kw.setdefault("pipeline", [dict(type="LoadImageFromFile"), dict(type="PackDetInputs")])
    return CocoDetection(ann_file=str(ann), data_root="", data_prefix=dict(img=str(ann.parent / "img")), **kw)


@pytest.fixture
def coco_builder() -> Callable[..., Any]:
    return build_coco

