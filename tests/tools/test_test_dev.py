"""COCO test-dev: an image-info file (images and categories, no annotations) through tools/test.py --format-only.

The detections written for the evaluation server from the image-info file are those written from the annotated file
of the same images (same model, same pipeline); scoring the image-info file, or training on it, is one message that
says what to do, and the scoring refusal comes before the pass over the test set."""
from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import pytest
import torch
from tool_loader import load_tool

from densenets.apis import build_model, load_config
from densenets.datasets import CocoDetection
from densenets.datasets.coco_gt import AnnotationError
from densenets.datasets.demo import make_tiny_coco_demo
from densenets.evaluation import CocoMetric

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "configs/demo/ssdlite_mbv3_large_demo.py")
test_tool = load_tool("test.py")
_runs = itertools.count()


@pytest.fixture(scope="module")
def coco(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("test_dev")
    make_tiny_coco_demo(str(root), seed=3, num_train=4, num_val=6)
    annotated = root / "annotations/instances_val2017.json"
    info = {k: v for k, v in json.loads(annotated.read_text()).items() if k != "annotations"}
    image_info = root / "annotations/image_info_test-dev2017.json"
    image_info.write_text(json.dumps(info))
    ckpt = root / "ssd.pth"
    torch.manual_seed(0)
    torch.save({"state_dict": build_model(load_config(CONFIG)).state_dict()}, ckpt)
    return dict(root=root, annotated=annotated, image_info=image_info, ckpt=ckpt)


def _test(coco: dict[str, Path], ann_file: Path, tmp_path: Path, *extra: str) -> int:
    return test_tool.main([
        CONFIG, str(coco["ckpt"]), "--work-dir", str(tmp_path / "work"), *extra, "--cfg-options",
        f"experiment_name=test_dev_{os.getpid()}_{next(_runs)}", f"test_dataloader.dataset.data_root={coco['root']}",
        f"test_dataloader.dataset.ann_file={ann_file}"])


def test_format_only_writes_for_the_server_what_the_annotated_file_gives(coco, tmp_path) -> None:
    assert _test(coco, coco["image_info"], tmp_path, "--format-only", "--out-dir", str(tmp_path / "dev")) == 0
    assert _test(coco, coco["annotated"], tmp_path, "--format-only", "--out-dir", str(tmp_path / "val")) == 0
    dev = json.loads((tmp_path / "dev/results.bbox.json").read_text())
    val = json.loads((tmp_path / "val/results.bbox.json").read_text())
    assert dev and dev == val
    info = json.loads(coco["image_info"].read_text())
    # COCO's ids (label -> category id: the last test)
    assert {r["image_id"] for r in dev} <= {i["id"] for i in info["images"]}
    assert {r["category_id"] for r in dev} <= {c["id"] for c in info["categories"]}


def test_scoring_an_image_info_file_is_refused_before_the_test_pass(coco, tmp_path, capsys, monkeypatch) -> None:
    batches = []
    monkeypatch.setattr(CocoMetric, "process", lambda self, batch, samples: batches.append(len(samples)))
    assert _test(coco, coco["image_info"], tmp_path) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and str(coco["image_info"]) in lines[0] and "--format-only" in lines[0]
    assert batches == []  # refused before the first batch


def test_training_on_or_scoring_against_an_image_info_file_names_it(coco) -> None:
    with pytest.raises(AnnotationError, match="image-info file.*--format-only") as info:
        CocoDetection(ann_file=str(coco["image_info"]), data_root=str(coco["root"]),
                      data_prefix=dict(img="val2017/"))
    assert str(coco["image_info"]) in str(info.value)
    # a test dataset lists its images, without objects
    dataset = CocoDetection(ann_file=str(coco["image_info"]), data_root=str(coco["root"]),
                            data_prefix=dict(img="val2017/"), test_mode=True)
    assert len(dataset) == 6 and dataset.metainfo["image_info"]
    assert all(len(dataset.get_data_info(i)["gt_labels"]) == 0 for i in range(len(dataset)))
    # a metric given the file itself (no dataset) refuses to score it at the end
    metric = CocoMetric(ann_file=str(coco["image_info"]))
    metric.dataset_meta = dict(dataset.metainfo)  # an explicit ann_file: refused in compute_metrics
    metric.process({}, [dict(img_id=dataset.get_data_info(0)["img_id"], pred_boxes=[[1, 1, 9, 9]], pred_scores=[0.9],
                             pred_labels=[0])])
    with pytest.raises(AnnotationError, match="no ground truth to score against"):
        metric.evaluate(1)
    # format_only writes it
    metric = CocoMetric(format_only=True, outfile_prefix=str(coco["root"] / "out/r"))
    metric.dataset_meta = dict(dataset.metainfo)
    metric.process({}, [dict(img_id=dataset.get_data_info(0)["img_id"], pred_boxes=[[1, 1, 9, 9]], pred_scores=[0.9],
                             pred_labels=[0])])
    assert metric.evaluate(1) == {}
    (record,) = json.loads((coco["root"] / "out/r.bbox.json").read_text())
    assert record["category_id"] == dataset.metainfo["cat_ids"][0] and record["bbox"] == [1, 1, 8, 8]
