"""CocoMetric against pycocotools run directly, faster-coco-eval against pycocotools, and the edge cases."""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from densenets.evaluation import CocoMetric
from densenets.evaluation.coco_metric import COCO_METRIC_NAMES

CATS = [(1, "person"), (4, "car"), (9, "boat")]  # gapped ids -> contiguous labels 0, 1, 2
CAT_IDS = [c for c, _ in CATS]


@pytest.fixture(scope="module")
def gt_file(tmp_path_factory):
    """Four images: small/medium/large boxes, a crowd region (image 4) and an image without objects (image 3)."""
    images = [(1, 480, 640), (2, 240, 320), (3, 400, 500), (4, 300, 300)]
    anns = [
        (1, 1, [50, 50, 200, 300], 0), (1, 4, [300, 100, 60, 50], 0), (1, 9, [500, 400, 20, 15], 0),
        (2, 1, [10, 10, 25, 30], 0), (2, 4, [100, 80, 150, 120], 0), (2, 1, [200, 150, 50, 60], 0),
        (4, 1, [0, 0, 150, 150], 1), (4, 9, [200, 200, 60, 50], 0), (4, 4, [160, 20, 100, 110], 0),
    ]
    doc = {
        "images": [{"id": i, "file_name": f"{i}.jpg", "height": h, "width": w} for i, h, w in images],
        "annotations": [
            {"id": k + 1, "image_id": i, "category_id": c, "bbox": b, "area": float(b[2] * b[3]), "iscrowd": crowd}
            for k, (i, c, b, crowd) in enumerate(anns)
        ],
        "categories": [{"id": c, "name": n} for c, n in CATS],
    }
    path = tmp_path_factory.mktemp("cocometric") / "gt.json"
    path.write_text(json.dumps(doc))
    return str(path)


def _predictions(gt_file: str, seed: int = 0) -> list[dict]:
    """Jittered copies of the ground truth (some with the wrong class), detections inside the crowd region,
    duplicates, and random false positives, as the model's predict samples (xyxy, contiguous labels)."""
    doc = json.loads(open(gt_file).read())
    rng = np.random.default_rng(seed)
    out = []
    for img in doc["images"]:
        boxes, scores, labels = [], [], []
        for a in (a for a in doc["annotations"] if a["image_id"] == img["id"]):
            x, y, w, h = a["bbox"]
            for _ in range(2):  # a near hit and a duplicate
                j = rng.normal(0, 0.08, 4) * [w, h, w, h]
                boxes.append([x + j[0], y + j[1], x + w + j[2], y + h + j[3]])
                lab = CAT_IDS.index(a["category_id"])
                labels.append(lab if rng.random() < 0.8 else (lab + 1) % 3)
                scores.append(rng.uniform(0.05, 1.0))
        for _ in range(15):  # false positives
            x1, y1 = rng.uniform(0, img["width"] - 20), rng.uniform(0, img["height"] - 20)
            boxes.append([x1, y1, x1 + rng.uniform(5, 150), y1 + rng.uniform(5, 150)])
            labels.append(int(rng.integers(3)))
            scores.append(rng.uniform(0, 0.6))
        out.append(
            dict(
                img_id=img["id"],
                pred_boxes=torch.tensor(boxes, dtype=torch.float32),
                pred_scores=torch.tensor(scores, dtype=torch.float32),
                pred_labels=torch.tensor(labels, dtype=torch.int64),
            )
        )
    return out


def _direct_pycocotools(gt_file: str, preds: list[dict], category_id=CAT_IDS.__getitem__) -> np.ndarray:
    """pycocotools run directly on ``preds``, each label's category id given by ``category_id(label)``."""
    records = []
    for p in preds:
        for b, s, lab in zip(p["pred_boxes"].double().tolist(), p["pred_scores"].double().tolist(),
                             p["pred_labels"].tolist()):
            records.append({"image_id": p["img_id"], "category_id": category_id(lab),
                            "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]], "score": s})
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_file)
        ev = COCOeval(gt, gt.loadRes(records), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats


def _run(gt_file: str, preds: list[dict], **kw) -> dict[str, float]:
    metric = CocoMetric(ann_file=gt_file, **kw)
    metric.dataset_meta = {"cat_ids": CAT_IDS, "classes": tuple(n for _, n in CATS)}
    metric.process({}, preds[:2])  # two batches
    metric.process({}, preds[2:])
    return metric.evaluate(len(preds))


def test_equals_pycocotools_run_directly(gt_file):
    preds = _predictions(gt_file)
    want = _direct_pycocotools(gt_file, preds)
    got = _run(gt_file, preds, classwise=True)
    assert [got[f"coco/{n}"] for n in COCO_METRIC_NAMES] == pytest.approx(list(want), abs=0, rel=0)
    assert 0.2 < got["coco/bbox_mAP"] < 0.9  # a non-trivial case: neither perfect nor empty
    assert all(got[f"coco/bbox_mAP_{s}"] > 0 for s in "sml")
    assert set(k for k in got if "_AP_" in k) == {"coco/bbox_AP_person", "coco/bbox_AP_car", "coco/bbox_AP_boat"}


def test_faster_coco_eval_backend_matches(gt_file):
    for seed in (0, 1):
        preds = _predictions(gt_file, seed)
        ref = _run(gt_file, preds, classwise=True)
        fast = _run(gt_file, preds, classwise=True, backend="faster_coco_eval")
        assert fast.keys() == ref.keys()
        for k in ref:
            assert fast[k] == pytest.approx(ref[k], abs=1e-6), k


def test_empty_predictions_give_zero(gt_file):
    empty = [dict(img_id=i, pred_boxes=torch.zeros(0, 4), pred_scores=torch.zeros(0),
                  pred_labels=torch.zeros(0, dtype=torch.int64)) for i in (1, 2, 3, 4)]
    for backend in ("pycocotools", "faster_coco_eval"):
        got = _run(gt_file, empty, backend=backend, classwise=True)
        assert got and all(v == 0.0 for v in got.values())
        assert len(got) == len(COCO_METRIC_NAMES) + len(CATS)


def test_format_only_writes_results_json(gt_file, tmp_path):
    preds = _predictions(gt_file)
    prefix = str(tmp_path / "out" / "dets")
    assert _run(gt_file, preds, format_only=True, outfile_prefix=prefix) == {}
    records = json.loads((tmp_path / "out" / "dets.bbox.json").read_text())
    assert len(records) == sum(len(p["pred_scores"]) for p in preds)
    assert {r["category_id"] for r in records} <= set(CAT_IDS)
    r, p = records[0], preds[0]
    b = p["pred_boxes"][0].double().tolist()
    assert r["image_id"] == 1 and r["category_id"] == CAT_IDS[int(p["pred_labels"][0])]
    assert r["bbox"] == pytest.approx([b[0], b[1], b[2] - b[0], b[3] - b[1]])
    with pytest.raises(ValueError, match="outfile_prefix"):
        CocoMetric(format_only=True)


def test_bad_usage_errors(gt_file):
    bad = _predictions(gt_file)[:1]
    bad[0]["pred_labels"][0] = 3
    with pytest.raises(ValueError, match="labels outside 0..2"):
        _run(gt_file, bad)
    wrong_img = _predictions(gt_file)[:1]
    wrong_img[0]["img_id"] = 99
    with pytest.raises(ValueError, match="not in .*gt.json"):
        _run(gt_file, wrong_img)
    with pytest.raises(ValueError, match="backend"):
        CocoMetric(backend="detectron")
    metric = CocoMetric()
    metric.process({}, _predictions(gt_file)[:1])
    with pytest.raises(ValueError, match="needs the ground-truth annotation file"):
        metric.evaluate(1)


def test_evaluator_with_dataset_meta_perfect_predictions(tmp_path):
    """Through mmengine's Evaluator with a CocoDetection's metainfo (ann_file and cat_ids from the dataset):
    the dataset's own targets as predictions score AP 1, so labels map back to the right category ids."""
    from densenets.datasets import CocoDetection
    from densenets.datasets.demo import make_tiny_coco_demo

    init_default_scope("densenets")
    make_tiny_coco_demo(str(tmp_path), num_train=0, num_val=6)
    ds = CocoDetection(data_root=str(tmp_path), ann_file="annotations/instances_val2017.json",
                       data_prefix=dict(img="val2017/"), test_mode=True, pipeline=[])
    evaluator = Evaluator(dict(type="CocoMetric", backend="faster_coco_eval"))
    evaluator.dataset_meta = ds.metainfo
    samples = []
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        n = len(info["gt_labels"])
        samples.append(dict(img_id=info["img_id"], pred_boxes=torch.from_numpy(info["gt_boxes"]),
                            pred_scores=torch.ones(n), pred_labels=torch.from_numpy(info["gt_labels"])))
    evaluator.process(samples)
    got = evaluator.evaluate(len(samples))
    assert got["coco/bbox_mAP"] == pytest.approx(1.0)
    assert got["coco/bbox_AR@100"] == pytest.approx(1.0)


def test_coco_category_id_labels_score_as_torchvision_reference(gt_file, tmp_path):
    """label_space='coco_category_ids' (torchvision's COCO detectors: label l is category id l + 1) gives what
    torchvision's reference evaluation gives: pycocotools on records whose category_id is torchvision's label,
    COCOeval's default categories (the ground truth's), so detections of other ids (COCO's unused 12 / 26, ids the
    file lacks) do not count; they are also left out of the written results."""
    rng = np.random.default_rng(5)
    tv_preds, ours = [], []
    for p in _predictions(gt_file, seed=2):
        tv_labels = torch.tensor([CAT_IDS[lab] for lab in p["pred_labels"].tolist()])
        extra = 6  # confident detections of ids that are not evaluated, on top of the ground truth's boxes
        boxes = torch.cat([p["pred_boxes"], p["pred_boxes"][:extra]])
        scores = torch.cat([p["pred_scores"], torch.full((min(extra, len(p["pred_boxes"])),), 0.99)])
        tv_labels = torch.cat([tv_labels, torch.tensor(rng.choice([2, 3, 12, 26, 90], len(boxes) - len(tv_labels)))])
        tv_preds.append(dict(p, pred_boxes=boxes, pred_scores=scores, pred_labels=tv_labels))
        ours.append(dict(p, pred_boxes=boxes, pred_scores=scores, pred_labels=tv_labels - 1))
    # the reference: torchvision's protocol (labels are the category ids), pycocotools run directly
    want = _direct_pycocotools(gt_file, tv_preds, category_id=int)
    got = _run(gt_file, ours, label_space="coco_category_ids", classwise=True,
               outfile_prefix=str(tmp_path / "tv"))
    assert [got[f"coco/{n}"] for n in COCO_METRIC_NAMES] == pytest.approx(list(want), abs=0, rel=0)
    assert 0.2 < got["coco/bbox_mAP"] < 0.9
    assert set(k for k in got if "_AP_" in k) == {"coco/bbox_AP_person", "coco/bbox_AP_car", "coco/bbox_AP_boat"}
    written = json.loads((tmp_path / "tv.bbox.json").read_text())
    assert {r["category_id"] for r in written} == set(CAT_IDS)
    assert len(written) == sum(lab in CAT_IDS for p in tv_preds for lab in p["pred_labels"].tolist())
    # the same labels read as contiguous class indices: an error that names the option, not a score
    with pytest.raises(ValueError, match="label_space='coco_category_ids'"):
        _run(gt_file, ours)
    # beyond COCO's 90 ids, or no evaluated id at all: errors
    with pytest.raises(ValueError, match="outside 0..89"):
        _run(gt_file, [dict(ours[0], pred_labels=ours[0]["pred_labels"] + 90)], label_space="coco_category_ids")
    with pytest.raises(ValueError, match="drop cat_ids"):
        CocoMetric(label_space="coco_category_ids", cat_ids=CAT_IDS)
