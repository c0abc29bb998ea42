"""tools/eval_cityscapes.py and densenets.evaluation.cityscapes_files: JSON scores equal to the official script's,
missing/duplicate predictions named, trainId predictions detected or evaluated explicitly."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from densenets.datasets.cityscapes_labels import LABEL_TO_TRAIN
from densenets.datasets.demo.cityscapes_demo import make_tiny_cityscapes_demo
from densenets.evaluation import cityscapes_files as files
from densenets.evaluation.cityscapes_metric import TrainIdPredictionsError
from tool_loader import load_tool

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools", "eval_cityscapes.py")
KEYS = ("averageScoreClasses", "averageScoreInstClasses", "averageScoreCategories", "averageScoreInstCategories")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Demo val ground truth (3 images) and labelId predictions in nested folders, named like mmseg/ours write them."""
    root = make_tiny_cityscapes_demo(str(tmp_path_factory.mktemp("cs") / "demo"), num_train=0, num_val=3)
    gt_dir = os.path.join(root, "gtFine", "val")
    pred_dir = str(tmp_path_factory.mktemp("pred"))
    rng = np.random.default_rng(0)
    for city in sorted(os.listdir(gt_dir)):
        for f in sorted(os.listdir(os.path.join(gt_dir, city))):
            if f.endswith("_gtFine_labelIds.png"):
                gt = cv2.imread(os.path.join(gt_dir, city, f), cv2.IMREAD_UNCHANGED)
                pred = gt.copy()
                noise = rng.random(gt.shape) < 0.2
                pred[noise] = rng.choice([0, 7, 8, 11, 21, 23, 24, 26, 29], int(noise.sum()))
                os.makedirs(os.path.join(pred_dir, city), exist_ok=True)
                cv2.imwrite(os.path.join(pred_dir, city, f.replace("_gtFine_labelIds", "_pred_labelIds")), pred)
    return gt_dir, pred_dir


def _official(gt_dir: str, pred_dir: str, monkeypatch) -> dict:
    from cityscapesscripts.evaluation import evalPixelLevelSemanticLabeling as official

    # cityscapesscripts 2.3.0 calls np.in1d, which NumPy 2.4 removed; shim it for the reference run only.
    monkeypatch.setattr(np, "in1d", np.isin, raising=False)
    for k, v in dict(quiet=True, JSONOutput=False, predictionPath=pred_dir, predictionWalk=None).items():
        monkeypatch.setattr(official.args, k, v)
    gts = sorted(os.path.join(r, f) for r, _, fs in os.walk(gt_dir) for f in fs if f.endswith("_gtFine_labelIds.png"))
    preds = [official.getPrediction(official.args, g) for g in gts]  # the official matching rule
    return official.evaluateImgLists(preds, gts, official.args)


def test_cli_json_equals_official(data, monkeypatch):
    gt_dir, pred_dir = data
    proc = subprocess.run([sys.executable, TOOL, pred_dir, "--gt-dir", gt_dir, "--json"], capture_output=True,
                          text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    ours = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "classes          IoU" in proc.stdout and ours["numImages"] == 3
    ref = _official(gt_dir, pred_dir, monkeypatch)
    for k in KEYS:
        assert ours[k] == pytest.approx(ref[k], abs=1e-6), k
    for name, v in ref["classScores"].items():
        assert ours["classScores"][name] == (None if np.isnan(v) else pytest.approx(v, abs=1e-6))


def test_workers_give_identical_sums(data):
    gt_dir, pred_dir = data
    pairs, *_ = files.match_predictions(files.find_ground_truth(gt_dir), files.index_predictions(pred_dir))
    one, two = files.evaluate_pairs(pairs, 1), files.evaluate_pairs(pairs, 2)
    assert np.array_equal(one.conf, two.conf) and np.allclose(one.inst, two.inst, rtol=1e-12)


def test_missing_and_duplicate_predictions_are_listed(data, tmp_path, capsys):
    tool = load_tool("eval_cityscapes.py")
    gt_dir, pred_dir = data
    bad = str(tmp_path / "pred")
    shutil.copytree(pred_dir, bad)
    files = sorted(os.path.join(r, f) for r, _, fs in os.walk(bad) for f in fs)
    os.remove(files[0])
    shutil.copy(files[1], files[1].replace("_pred_labelIds", "_other"))
    assert tool.main([bad, "--gt-dir", gt_dir, "--json"]) == 2
    err = capsys.readouterr().err
    missing = os.path.basename(files[0]).replace("_pred_labelIds", "_gtFine_labelIds")
    assert f"missing prediction for {missing}" in err
    assert "several predictions for" in err and os.path.basename(files[1]) in err


def test_wrong_size_and_trainid_predictions_are_named(data, tmp_path, capsys):
    tool = load_tool("eval_cityscapes.py")
    gt_dir, pred_dir = data
    bad = str(tmp_path / "pred")
    shutil.copytree(pred_dir, bad)
    first = sorted(os.path.join(r, f) for r, _, fs in os.walk(bad) for f in fs)[0]
    cv2.imwrite(first, np.zeros((10, 10), np.uint8))
    assert tool.main([bad, "--gt-dir", gt_dir]) == 2
    assert f"{first}: prediction is 10x10" in capsys.readouterr().err
    cv2.imwrite(first, np.full((64, 128), 255, np.uint8))
    assert tool.main([bad, "--gt-dir", gt_dir]) == 2
    assert "[255] are not Cityscapes labelIds" in capsys.readouterr().err


def test_default_workers_are_the_usable_cpus():
    tool = load_tool("eval_cityscapes.py")
    assert files.available_cpus() == tool.parse_args(["preds"]).workers
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert tool.parse_args(["preds"]).workers == expected


def _as_train_ids(pred_dir: str, out: str) -> str:
    """The same predictions written as trainIds 0..18 (no-class labels as 255 unless none remain)."""
    shutil.copytree(pred_dir, out)
    for r, _, fs in os.walk(out):
        for f in fs:
            p = os.path.join(r, f)
            cv2.imwrite(p, LABEL_TO_TRAIN[cv2.imread(p, cv2.IMREAD_UNCHANGED)].astype(np.uint8))
    return out


def _strip_void(pred_dir: str, out: str) -> str:
    """trainId predictions without 255, as a model's argmax writes them (ids 0..18 only)."""
    shutil.copytree(pred_dir, out)
    for r, _, fs in os.walk(out):
        for f in fs:
            p = os.path.join(r, f)
            a = cv2.imread(p, cv2.IMREAD_UNCHANGED)
            a[a == 255] = 0
            cv2.imwrite(p, a)
    return out


def test_trainid_predictions_read_as_labelids_stop_with_a_message(data, tmp_path, capsys):
    """Issue: trainId PNGs (0..18, no 255) used to score mIoU 0.00 with exit 0."""
    tool = load_tool("eval_cityscapes.py")
    gt_dir, pred_dir = data
    train = _strip_void(_as_train_ids(pred_dir, str(tmp_path / "t")), str(tmp_path / "train"))
    assert tool.main([train, "--gt-dir", gt_dir, "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "look like trainIds" in err and "--pred-ids train" in err and "Traceback" not in err
    pairs, *_ = files.match_predictions(files.find_ground_truth(gt_dir), files.index_predictions(train))
    with pytest.raises(TrainIdPredictionsError, match="none of the 3 prediction images holds an id >= 19"):
        files.evaluate_pairs(pairs, 1).scores()


def test_pred_ids_train_equals_official_on_the_labelid_files(data, tmp_path, capsys, monkeypatch):
    """--pred-ids train on trainId files == the official script on the same predictions written as labelIds."""
    from densenets.datasets.cityscapes_labels import train_ids_to_label_ids

    tool = load_tool("eval_cityscapes.py")
    gt_dir, pred_dir = data
    train = _as_train_ids(pred_dir, str(tmp_path / "train"))
    as_label = str(tmp_path / "as_label")
    shutil.copytree(train, as_label)
    for r, _, fs in os.walk(as_label):
        for f in fs:
            cv2.imwrite(os.path.join(r, f), train_ids_to_label_ids(cv2.imread(os.path.join(r, f), -1)))
    assert tool.main([train, "--gt-dir", gt_dir, "--json", "--workers", "2", "--pred-ids", "train"]) == 0
    ours = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    ref = _official(gt_dir, as_label, monkeypatch)
    for k in KEYS:
        assert ours[k] == pytest.approx(ref[k], abs=1e-6), k
    assert 0.3 < ours["averageScoreClasses"] < 0.95
    # labelId files passed as trainIds are named, not scored
    assert tool.main([pred_dir, "--gt-dir", gt_dir, "--workers", "1", "--pred-ids", "train"]) == 2
    assert "are not trainIds (0..18, 255); are these labelIds?" in capsys.readouterr().err
