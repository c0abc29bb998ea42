"""CocoDetection on generated COCO-format data: boxes/labels round trip, crowd exclusion, category mapping."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from densenets.datasets import CocoDetection
from densenets.registry import DATASETS

PIPE = [dict(type="LoadImageFromFile"), dict(type="PackDetInputs")]


def _ds(root, split="train2017", **kw):
    return CocoDetection(
        data_root=str(root), ann_file=f"annotations/instances_{split}.json", data_prefix=dict(img=f"{split}/"),
        pipeline=PIPE, **kw,
    )


def _json(root, split="train2017"):
    return json.loads((root / "annotations" / f"instances_{split}.json").read_text())


def test_round_trip_boxes_labels_and_crowd_exclusion(tiny_coco):
    ds = _ds(tiny_coco, test_mode=True)
    doc = _json(tiny_coco)
    assert len(ds) == len(doc["images"])  # test mode keeps empty images
    cat_ids = ds.metainfo["cat_ids"]
    assert list(cat_ids) == sorted(c["id"] for c in doc["categories"])
    assert ds.metainfo["classes"] == tuple(c["name"] for c in sorted(doc["categories"], key=lambda c: c["id"]))
    n_crowd = 0
    for i in range(len(ds)):
        s = ds[i]["data_samples"]
        anns = [a for a in doc["annotations"] if a["image_id"] == s["img_id"]]
        n_crowd += sum(a["iscrowd"] for a in anns)
        want = sorted(
            (cat_ids.index(a["category_id"]), a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2],
             a["bbox"][1] + a["bbox"][3]) for a in anns if not a["iscrowd"]
        )
        got = sorted((int(lab), *map(float, box)) for lab, box in zip(s["gt_labels"], s["gt_boxes"]))
        assert len(got) == len(want)
        np.testing.assert_allclose(np.array(got).reshape(-1, 5), np.array(want).reshape(-1, 5), atol=1e-3)
        # and back: contiguous label -> original category id
        assert sorted(cat_ids[int(k)] for k in s["gt_labels"]) == sorted(
            a["category_id"] for a in anns if not a["iscrowd"]
        )
        assert s["gt_boxes"].dtype == torch.float32 and s["gt_labels"].dtype == torch.int64
        assert ds[i]["inputs"].dtype == torch.uint8 and ds[i]["inputs"].shape[0] == 3
    assert n_crowd > 0, "the fixture should contain crowd regions"
    assert ds.problem_counts()["crowd boxes excluded from training targets"] == n_crowd


def test_filter_empty_gt(tiny_coco):
    doc = _json(tiny_coco)
    with_obj = {a["image_id"] for a in doc["annotations"] if not a["iscrowd"]}
    assert len(with_obj) < len(doc["images"]), "the fixture should contain images without objects"
    assert len(_ds(tiny_coco)) == len(with_obj)
    assert len(_ds(tiny_coco, filter_empty_gt=False)) == len(doc["images"])
    assert len(_ds(tiny_coco, test_mode=True)) == len(doc["images"])


def test_subset_classes_select_and_order(tiny_coco):
    doc = _json(tiny_coco)
    ds = _ds(tiny_coco, metainfo=dict(classes=("star", "circle")), filter_empty_gt=False)
    assert ds.metainfo["classes"] == ("star", "circle") and tuple(ds.metainfo["cat_ids"]) == (5, 1)
    total = 0
    for i in range(len(ds)):
        s = ds[i]["data_samples"]
        anns = [a for a in doc["annotations"] if a["image_id"] == s["img_id"] and not a["iscrowd"]]
        want = sorted({5: 0, 1: 1}[a["category_id"]] for a in anns if a["category_id"] in (5, 1))
        assert sorted(s["gt_labels"].tolist()) == want
        total += len(want)
    assert total > 0
    with pytest.raises(ValueError, match="not categories of this file"):
        _ds(tiny_coco, metainfo=dict(classes=("star", "hexagon")))


def test_built_from_config_dict_with_default_scope(tiny_coco):
    ds = DATASETS.build(
        dict(type="CocoDetection", data_root=str(tiny_coco), ann_file="annotations/instances_val2017.json",
             data_prefix=dict(img="val2017/"), pipeline=PIPE, test_mode=True, filter_empty_gt=True,
             metainfo=dict(classes=("circle", "square", "triangle", "star", "ring", "cross")))
    )
    assert ds.metainfo["ann_file"].endswith("instances_val2017.json")
    s = ds[0]
    assert set(s["data_samples"]) == {"img_id", "img_path", "ori_shape", "img_shape", "scale_factor", "gt_boxes",
                                      "gt_labels", "flip"}
    assert s["data_samples"]["scale_factor"] == (1.0, 1.0)


def test_missing_coco_explains_download(tmp_path, tiny_coco):
    with pytest.raises(FileNotFoundError) as e:
        CocoDetection(data_root=str(tmp_path / "coco"), ann_file="annotations/instances_train2017.json",
                      data_prefix=dict(img="train2017/"))
    msg = str(e.value)
    assert str(tmp_path / "coco") in msg and "annotations_trainval2017.zip" in msg and "train2017.zip" in msg
    assert "make demo" in msg and "tools/make_demo_data.py coco" in msg
    with pytest.raises(FileNotFoundError, match="annotation file not found"):
        CocoDetection(data_root=str(tiny_coco), ann_file="annotations/instances_nope.json")
    with pytest.raises(FileNotFoundError, match="image folder not found"):
        CocoDetection(data_root=str(tiny_coco), ann_file="annotations/instances_val2017.json",
                      data_prefix=dict(img="val2014/"))
