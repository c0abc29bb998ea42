"""Fuzz: randomly corrupted COCO json records and image files through CocoDetection and CocoMetric.

Fixed seed, bounded time (a few seconds). Every outcome must be a clean result (finite figures or pycocotools' -1),
a counted skip (the dataset's ``problem_counts()`` / ``num_bad_images``), or an expected error whose message names
the annotation file or the image file — never a bare KeyError / TypeError / IndexError from deep inside.
"""
from __future__ import annotations

import copy
import json
import math
import random
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from densenets.datasets import CocoDetection
from densenets.datasets.coco_gt import AnnotationError
from densenets.datasets.image_io import BadImageError
from densenets.evaluation import CocoMetric

SEED, TRIALS, BUDGET_S = 20261201, 40, 10.0
JUNK = [None, "7", [], [1, 2, 3], {"a": 1}, float("nan"), float("inf"), -5, 0, 1e9, True, 2.5]
PIPELINE = [dict(type="LoadImageFromFile"), dict(type="PackDetInputs")]


def _base(n_images: int = 3) -> dict:
    images = [dict(id=i + 1, file_name=f"{i + 1}.jpg", height=40, width=60) for i in range(n_images)]
    anns, k = [], 0
    for img in images:
        for j in range(2):
            k += 1
            anns.append(dict(id=k, image_id=img["id"], category_id=1 + (j % 2), bbox=[5 + 20 * j, 5, 15, 12],
                             area=180.0, iscrowd=0))
    return dict(images=images, annotations=anns, categories=[dict(id=1, name="a"), dict(id=2, name="b")])


def _corrupt_json(doc: dict, rng: random.Random) -> str:
    kind = rng.choice(["drop_key", "junk_value", "bbox_len", "bbox_value", "dup", "bad_ref", "empty_list"])
    section = rng.choice(["images", "annotations", "categories"] if kind != "bbox_value" else ["annotations"])
    records = doc[section]
    if not records:
        return "nothing"
    rec = rng.choice(records)
    if kind == "drop_key":
        rec.pop(rng.choice(sorted(rec)), None)
    elif kind == "junk_value":
        rec[rng.choice(sorted(rec))] = copy.deepcopy(rng.choice(JUNK))
    elif kind == "bbox_len" and section == "annotations":
        rec["bbox"] = rec["bbox"][: rng.choice([0, 2, 3])] if rng.random() < 0.7 else rec["bbox"] + [1]
    elif kind == "bbox_value" and section == "annotations":
        rec["bbox"][rng.randrange(4)] = rng.choice([float("nan"), float("inf"), -30.0, 0.0, 1e6, -1e6])
    elif kind == "dup":
        records.append(copy.deepcopy(rec))
    elif kind == "bad_ref" and section == "annotations":
        rec[rng.choice(["image_id", "category_id"])] = rng.choice([99, -1, "x"])
    elif kind == "empty_list":
        doc[section] = []
    return f"{kind}:{section}"


def _corrupt_image(folder: Path, rng: random.Random) -> str:
    path = folder / f"{rng.randint(1, 3)}.jpg"
    kind = rng.choice(["truncate", "garbage", "delete", "other_size", "gray", "empty", "fine"])
    if kind == "truncate" and path.exists():
        path.write_bytes(path.read_bytes()[: rng.randint(10, 200)])
    elif kind == "garbage":
        path.write_bytes(bytes(rng.getrandbits(8) for _ in range(300)))
    elif kind == "delete" and path.exists():
        path.unlink()
    elif kind == "other_size":
        Image.fromarray(np.zeros((30, 30, 3), np.uint8)).save(path)
    elif kind == "gray":
        Image.fromarray(np.full((40, 60), 90, np.uint8), "L").save(path)
    elif kind == "empty":
        path.write_bytes(b"")
    return f"{kind}:{path.name}"


def _names_a_file(err: BaseException, ann_file: str, img_dir: Path) -> bool:
    text = str(err)
    return ann_file in text or any(p.name in text for p in img_dir.iterdir()) or str(img_dir) in text


def test_corrupted_coco_records_and_images(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    start, outcomes = time.monotonic(), {"clean": 0, "skip": 0, "error": 0}
    for trial in range(TRIALS):
        if time.monotonic() - start > BUDGET_S:
            break
        root = tmp_path / f"t{trial}"
        img_dir = root / "img"
        img_dir.mkdir(parents=True)
        for i in range(1, 4):
            Image.fromarray(np.full((40, 60, 3), 40 * i, np.uint8)).save(img_dir / f"{i}.jpg")
        doc = _base()
        what = [_corrupt_json(doc, rng) for _ in range(rng.choice([0, 1, 1, 2]))]
        if rng.random() < 0.5:
            what.append(_corrupt_image(img_dir, rng))
        ann_file = str(root / "ann.json")
        Path(ann_file).write_text(json.dumps(doc))
        test_mode = rng.random() < 0.5
        try:
            ds = CocoDetection(ann_file=ann_file, data_root="", data_prefix=dict(img=str(img_dir)),
                               pipeline=PIPELINE, test_mode=test_mode)
            samples = []
            for i in range(len(ds)):
                item = ds[i]
                if item is None:  # a training image skipped (counted); mmengine would draw another
                    continue
                s = item["data_samples"]
                samples.append(dict(img_id=s["img_id"], pred_boxes=s["gt_boxes"],
                                    pred_scores=torch.ones(len(s["gt_labels"])), pred_labels=s["gt_labels"]))
            metric = CocoMetric()
            metric.dataset_meta = ds.metainfo
            metric.process(None, samples)
            figures = metric.compute_metrics(metric.results) if samples else {}
        except (AnnotationError, BadImageError, ValueError, FileNotFoundError) as err:
            assert _names_a_file(err, ann_file, img_dir), f"trial {trial} {what}: {type(err).__name__}: {err}"
            outcomes["error"] += 1
            continue
        except Exception as err:  # noqa: BLE001  (anything else is a crash deep in a stack)
            pytest.fail(f"trial {trial} {what}: {type(err).__name__}: {err}")
        assert all(math.isfinite(v) and (v == -1 or 0 <= v <= 1) for v in figures.values()), (trial, what, figures)
        skipped = bool(ds.problem_counts()) or ds.num_bad_images > 0
        outcomes["skip" if skipped else "clean"] += 1
    print(outcomes)
    assert sum(outcomes.values()) >= 15, outcomes  # the budget allowed a meaningful number of trials
    assert outcomes["error"] and (outcomes["skip"] or outcomes["clean"]), outcomes
