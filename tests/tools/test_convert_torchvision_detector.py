"""torchvision's Faster R-CNN weights through densenets' tools: tools/convert_torchvision_detector.py, then
tools/test.py with the command it prints. The checkpoint has the layout of torchvision's trained detectors (frozen
backbone BN: no num_batches_tracked) and its 91 outputs are COCO category ids. On the images that neither side
resizes, the detections tools/test.py gives are torchvision's own (boxes, scores, and labels as category ids)."""
from __future__ import annotations

import itertools
import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from realistic_model import calibrate_torchvision_detector
from tool_loader import load_tool
from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_320_fpn

from densenets.apis import build_model, load_config
from densenets.datasets.demo import make_tiny_coco_demo

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "configs/faster_rcnn_mbv3_large_320_fpn.py")
convert, test_tool = load_tool("convert_torchvision_detector.py"), load_tool("test.py")
_runs = itertools.count()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("tv_frcnn")
    make_tiny_coco_demo(str(root), seed=4, num_train=2, num_val=6)
    torch.manual_seed(0)
    tv = fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None, box_score_thresh=0.05).eval()
    val = json.loads((root / "annotations/instances_val2017.json").read_text())
    images = {i["id"]: torch.from_numpy(np.asarray(Image.open(root / "val2017" / i["file_name"]).convert("RGB")))
              .permute(2, 0, 1) for i in val["images"]}
    calibrate_torchvision_detector(tv, images.values())
    with torch.no_grad():
        # torchvision resizes to shorter side 320: those already there (320 wide, >= 320 high) are not resized
        unresized = {i: img for i, img in images.items() if min(img.shape[1:]) == 320 and max(img.shape[1:]) <= 640}
        expected = {i: tv([img.float() / 255])[0] for i, img in unresized.items()}
    state = {k: v for k, v in tv.state_dict().items() if not k.endswith("num_batches_tracked")}  # FrozenBN layout
    src = root / "tv_frcnn.pth"
    torch.save(state, src)
    assert expected, "the demo set should have images torchvision does not resize"
    return dict(root=root, src=src, expected=expected)


def _data_options(root: Path) -> list[str]:
    return [f"experiment_name=tv_frcnn_{os.getpid()}_{next(_runs)}", f"test_dataloader.dataset.data_root={root}",
            "test_dataloader.num_workers=0", "test_dataloader.persistent_workers=False"]


def test_converted_weights_evaluate_with_torchvisions_detections(setup, tmp_path, capsys) -> None:
    dst = tmp_path / "converted.pth"
    assert convert.main([CONFIG, str(setup["src"]), str(dst)]) == 0
    printed = capsys.readouterr().out
    command = next(line for line in printed.splitlines() if "tools/test.py" in line)
    options = command.split("--cfg-options", 1)[1].split()
    assert options == ["model.num_classes=90", "test_evaluator.label_space=coco_category_ids"]
    out = tmp_path / "preds.pkl"
    assert test_tool.main([CONFIG, str(dst), "--work-dir", str(tmp_path / "w"), "--out", str(out),
                           "--cfg-options", *options, *_data_options(setup["root"])]) == 0
    samples = {int(s["img_id"]): s for s in pickle.loads(out.read_bytes())}
    assert len(samples) == 6
    for img_id, want in setup["expected"].items():
        got = samples[img_id]
        k = min(10, len(want["boxes"]))
        assert k > 0 and len(got["pred_boxes"]) == len(want["boxes"])
        torch.testing.assert_close(torch.as_tensor(got["pred_boxes"])[:k], want["boxes"][:k], rtol=1e-3, atol=1e-2)
        torch.testing.assert_close(torch.as_tensor(got["pred_scores"])[:k], want["scores"][:k], rtol=1e-3, atol=1e-4)
        assert torch.equal(torch.as_tensor(got["pred_labels"])[:k], want["labels"][:k] - 1)  # category id - 1


def test_without_the_label_space_it_is_an_error_not_a_score(setup, tmp_path, capsys) -> None:
    dst = tmp_path / "converted.pth"
    assert convert.main([CONFIG, str(setup["src"]), str(dst)]) == 0
    capsys.readouterr()
    rc = test_tool.main([CONFIG, str(dst), "--work-dir", str(tmp_path / "w"), "--cfg-options",
                         "model.num_classes=90", *_data_options(setup["root"])])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert "label_space='coco_category_ids'" in err
    assert "the model has 90 classes" in err  # refused when the test loop is built, before the checkpoint is read
    # the option on a model of the dataset's own classes (contiguous labels): an error, not a score
    own = tmp_path / "own.pth"
    torch.save({"state_dict": build_model(load_config(CONFIG, {"model.num_classes": 6})).state_dict()}, own)
    assert test_tool.main([CONFIG, str(own), "--work-dir", str(tmp_path / "w"), "--cfg-options", "model.num_classes=6",
                           "test_evaluator.label_space=coco_category_ids", *_data_options(setup["root"])]) == 2
    err = capsys.readouterr().err
    assert "label_space='coco_category_ids'" in err and "the model has 6 classes" in err
    # the unconverted file in tools/test.py, or another checkpoint in the converter: one message naming the file
    assert test_tool.main([CONFIG, str(setup["src"]), "--work-dir", str(tmp_path / "w"), "--cfg-options",
                           "model.num_classes=90", "test_evaluator.label_space=coco_category_ids",
                           *_data_options(setup["root"])]) == 2
    assert str(setup["src"]) in capsys.readouterr().err
    other = tmp_path / "other.pth"
    torch.save({"state_dict": {"conv.weight": torch.zeros(1)}}, other)
    assert convert.main([CONFIG, str(other), str(tmp_path / "x.pth")]) == 2
    assert str(other) in capsys.readouterr().err and not (tmp_path / "x.pth").exists()
    # a config of a model torchvision has no twin of: the config named, nothing written
    ssd = str(ROOT / "configs/ssdlite_mbv3_large.py")
    assert convert.main([ssd, str(setup["src"]), str(tmp_path / "x.pth")]) == 2
    err = capsys.readouterr().err
    assert ssd in err and "not a SSDLite" in err and "Traceback" not in err and not (tmp_path / "x.pth").exists()
