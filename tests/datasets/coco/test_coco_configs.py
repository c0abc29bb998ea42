"""The COCO dataset configs build with mmengine and produce the batch contract (pointed at the tiny demo set)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import build_from_cfg

from densenets.engine import list_collate
from densenets.registry import DATASETS, METRICS

CFG_DIR = Path(__file__).resolve().parents[3] / "configs" / "_base_" / "datasets"


@pytest.mark.parametrize("name, train_hw", [("coco_ssdlite_320.py", (320, 320)), ("demo_coco.py", (256, 256)),
                                            ("coco_frcnn_300.py", None), ("coco_frcnn_600.py", None)])
def test_config_builds_datasets_and_metric(name, train_hw, tiny_coco):
    cfg = Config.fromfile(CFG_DIR / name)
    assert cfg.val_evaluator.type == "CocoMetric"
    for key in ("train_dataloader", "val_dataloader", "test_dataloader"):
        dl = cfg[key]
        assert dl.collate_fn.type == "dense_list_collate"
        dl.dataset.data_root = str(tiny_coco)
        ds = build_from_cfg(dl.dataset, DATASETS)
        batch = list_collate([ds[0], ds[1]])
        assert len(batch["inputs"]) == 2 and batch["inputs"][0].dtype == torch.uint8
        s = batch["data_samples"][0]
        if key == "train_dataloader" and train_hw:
            assert s["img_shape"] == train_hw
        if key != "train_dataloader":
            assert not s["flip"]
            sx, sy = s["scale_factor"]
            assert (round(s["ori_shape"][0] * sy), round(s["ori_shape"][1] * sx)) == s["img_shape"]
    metric = build_from_cfg(cfg.val_evaluator, METRICS)
    assert metric.backend == "pycocotools"


@pytest.mark.parametrize("name, short, max_long", [("coco_frcnn_300.py", 300, 500), ("coco_frcnn_320.py", 320, 640),
                                                   ("coco_frcnn_600.py", 600, 1000), ("coco_frcnn_800.py", 800, 1333)])
def test_frcnn_sized_bases_resize_to_their_shorter_side(name, short, max_long, tiny_coco):
    cfg = Config.fromfile(CFG_DIR / name)
    for key in ("train_dataloader", "val_dataloader"):
        dataset = cfg[key].dataset
        dataset.data_root = str(tiny_coco)
        s = build_from_cfg(dataset, DATASETS)[0]["data_samples"]
        assert min(s["img_shape"]) == short or max(s["img_shape"]) == max_long, (name, key, s["img_shape"])
