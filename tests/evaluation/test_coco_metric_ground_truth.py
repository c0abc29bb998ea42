"""CocoMetric and ground truth the dataset cannot use: counted and logged, scored as the json says (official) or
against the cleaned set on request; no usable ground truth is a warning that says why."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

import densenets.evaluation.coco_metric as coco_metric
from densenets.datasets import CocoDetection
from densenets.datasets.demo import make_tiny_coco_demo
from densenets.evaluation import CocoMetric

UNUSABLE_BOXES = [[5, 5, 0, 10], [5, 5, 10, -3], [float("nan"), 5, 10, 10], [1000, 1000, 10, 10]]


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("gt_demo")
    make_tiny_coco_demo(str(root), seed=0, num_train=2, num_val=6)
    return root


def _val_ann(root: Path) -> Path:
    return root / "annotations" / "instances_val2017.json"


def _with_unusable(root: Path, tmp_path: Path) -> Path:
    doc = json.loads(_val_ann(root).read_text())
    cat, next_id = doc["categories"][0]["id"], max(a["id"] for a in doc["annotations"]) + 1
    for k, box in enumerate(UNUSABLE_BOXES):
        doc["annotations"].append(dict(id=next_id + k, image_id=doc["images"][k]["id"], category_id=cat, bbox=box,
                                       area=box[2] * box[3] if all(map(math.isfinite, box)) else 0.0, iscrowd=0))
    path = tmp_path / "val_with_bad_boxes.json"
    path.write_text(json.dumps(doc))
    return path


def _own_boxes_as_predictions(root: Path, ann_file: Path, **metric_kw) -> tuple[dict, list[str]]:
    init_default_scope("densenets")
    ds = CocoDetection(ann_file=str(ann_file), data_root="", data_prefix=dict(img=str(root / "val2017")),
                       test_mode=True, pipeline=[])
    metric = CocoMetric(**metric_kw)
    metric.dataset_meta = ds.metainfo
    samples = [dict(img_id=d["img_id"], pred_boxes=torch.as_tensor(d["gt_boxes"]),
                    pred_scores=torch.ones(len(d["gt_labels"])), pred_labels=torch.as_tensor(d["gt_labels"]))
               for d in (ds.get_data_info(i) for i in range(len(ds)))]
    metric.process(None, samples)
    logged: list[str] = []
    orig = coco_metric.print_log
    coco_metric.print_log = lambda msg, **kw: logged.append(msg)
    try:
        return metric.compute_metrics(metric.results), logged
    finally:
        coco_metric.print_log = orig


def test_clean_json_own_boxes_score_one(demo_root) -> None:
    metrics, logged = _own_boxes_as_predictions(demo_root, _val_ann(demo_root))
    assert metrics["bbox_mAP"] == pytest.approx(1.0)
    assert not [m for m in logged if "unusable" in m]


def test_unusable_gt_boxes_are_counted_and_cleaned_scoring_is_an_option(demo_root, tmp_path) -> None:
    ann = _with_unusable(demo_root, tmp_path)
    official, logged = _own_boxes_as_predictions(demo_root, ann)
    assert official["bbox_mAP"] == pytest.approx(0.876, abs=1e-3)  # the official protocol scores them as misses
    (line,) = [m for m in logged if "unusable" in m]
    assert "4 of 13 ground-truth boxes" in line and str(ann) in line and "1 boxes with non-finite coordinates" in line
    assert "2 boxes with zero/negative size" in line and "1 boxes entirely outside the image" in line
    assert "gt_boxes='cleaned'" in line
    cleaned, logged = _own_boxes_as_predictions(demo_root, ann, gt_boxes="cleaned")
    assert cleaned["bbox_mAP"] == pytest.approx(1.0)
    assert any("removed (gt_boxes='cleaned')" in m for m in logged)
    with pytest.raises(ValueError, match="gt_boxes must be"):
        CocoMetric(gt_boxes="clean")


def test_no_usable_ground_truth_warns_naming_why(demo_root, tmp_path) -> None:
    doc = json.loads(_val_ann(demo_root).read_text())
    for a in doc["annotations"]:
        a["iscrowd"] = 1
    ann = tmp_path / "crowd_only.json"
    ann.write_text(json.dumps(doc))
    init_default_scope("densenets")
    ds = CocoDetection(ann_file=str(ann), data_root="", data_prefix=dict(img=str(demo_root / "val2017")),
                       test_mode=True, pipeline=[])
    metric = CocoMetric()
    metric.dataset_meta = ds.metainfo
    metric.process(None, [dict(img_id=d["img_id"], pred_boxes=torch.tensor([[1.0, 1, 20, 20]]),
                               pred_scores=torch.tensor([0.9]), pred_labels=torch.tensor([0]))
                          for d in (ds.get_data_info(i) for i in range(len(ds)))])
    logged: list[str] = []
    orig = coco_metric.print_log
    coco_metric.print_log = lambda msg, **kw: logged.append(msg)
    try:
        metrics = metric.compute_metrics(metric.results)
    finally:
        coco_metric.print_log = orig
    assert set(np.round(list(metrics.values()), 6)) == {-1.0}
    (line,) = [m for m in logged if "no usable ground truth" in m]
    assert str(ann) in line and f"{len(doc['annotations'])} crowd regions" in line and "-1" in line


def test_faster_coco_eval_backend_reads_the_checked_json(demo_root, tmp_path) -> None:
    ann = _with_unusable(demo_root, tmp_path)
    a, _ = _own_boxes_as_predictions(demo_root, ann)
    b, _ = _own_boxes_as_predictions(demo_root, ann, backend="faster_coco_eval")
    assert a["bbox_mAP"] == pytest.approx(b["bbox_mAP"], abs=1e-9)
