"""CityscapesMetric / CityscapesAccumulator against the official cityscapesscripts evaluation on the same files."""
from __future__ import annotations

import math
import os

import cv2
import numpy as np
import pytest
import torch
from cityscapesscripts.helpers.labels import id2label

from densenets.datasets.cityscapes_labels import LABEL_TO_TRAIN, TRAIN_TO_LABEL, CityscapesDataError, read_label_png
from densenets.evaluation.cityscapes_metric import AVG_CLASS_SIZE, CityscapesAccumulator, CityscapesMetric
from densenets.registry import METRICS

H, W = 48, 80
AVERAGES = ("averageScoreClasses", "averageScoreInstClasses", "averageScoreCategories", "averageScoreInstCategories")
DICTS = ("classScores", "classInstScores", "categoryScores", "categoryInstScores")


def _scene(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Blocky labelIds over all 34 ids (so every class, category and void id occurs) and instanceIds."""
    gt = rng.integers(0, 34, (H // 8, W // 8)).repeat(8, 0).repeat(8, 1).astype(np.uint8)
    inst = gt.astype(np.int32)
    for lid in range(24, 34):  # person..bicycle incl. caravan/trailer (which the official script skips)
        m = gt == lid
        inst[m] = lid * 1000 + rng.integers(0, 3, int(m.sum()))
    crowd = (gt == 26) & (rng.random(gt.shape) < 0.2)  # car pixels without instance (a 'cargroup' region)
    inst[crowd] = 26
    return gt, inst


def _corrupt(gt: np.ndarray, rng: np.random.Generator, ids: np.ndarray) -> np.ndarray:
    pred = gt.copy()
    flip = rng.random(gt.shape) < 0.35
    pred[flip] = rng.choice(ids, int(flip.sum()))
    pred[: H // 6, : W // 5] = rng.choice(ids)  # a wrong block
    return pred


def _official(preds: list[str], gts: list[str], monkeypatch: pytest.MonkeyPatch) -> dict:
    from cityscapesscripts.evaluation import evalPixelLevelSemanticLabeling as official

    # cityscapesscripts 2.3.0 calls np.in1d, which NumPy 2.4 removed; shim it for the reference run only.
    monkeypatch.setattr(np, "in1d", np.isin, raising=False)
    monkeypatch.setattr(official.args, "quiet", True)
    monkeypatch.setattr(official.args, "JSONOutput", False)
    monkeypatch.setattr(official.args, "evalInstLevelScore", True)
    return official.evaluateImgLists(preds, gts, official.args)


def _write_pairs(tmp: str, preds_label: list[np.ndarray], gts: list[np.ndarray], insts: list[np.ndarray]):
    pred_files, gt_files = [], []
    for i, (p, g, s) in enumerate(zip(preds_label, gts, insts)):
        stem = os.path.join(tmp, f"city_{i:06d}_000019")
        cv2.imwrite(stem + "_gtFine_labelIds.png", g)
        cv2.imwrite(stem + "_gtFine_instanceIds.png", s.astype(np.uint16))
        cv2.imwrite(stem + "_pred.png", p)
        pred_files.append(stem + "_pred.png")
        gt_files.append(stem + "_gtFine_labelIds.png")
    return pred_files, gt_files


def _assert_same(ours: dict, ref: dict, keys_dicts=DICTS, keys_avg=AVERAGES) -> None:
    for k in keys_avg:
        assert ours[k] == pytest.approx(ref[k], abs=1e-6), k
    for d in keys_dicts:
        assert set(ours[d]) == set(ref[d]), d
        for name, v in ref[d].items():
            if math.isnan(v):
                assert math.isnan(ours[d][name]), (d, name)
            else:
                assert ours[d][name] == pytest.approx(v, abs=1e-6), (d, name)


def test_avg_class_size_comes_from_the_official_module():
    from cityscapesscripts.evaluation import evalPixelLevelSemanticLabeling as official

    assert AVG_CLASS_SIZE == official.args.avgClassSize


def test_label_space_matches_official_with_ignored_and_caravan_predictions(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    gts, insts, preds = [], [], []
    for _ in range(4):
        g, s = _scene(rng)
        gts.append(g)
        insts.append(s)
        preds.append(_corrupt(g, rng, np.arange(34)))  # any labelId: void ids, parking, caravan, trailer ...
    preds[1][gts[1] == 24] = 25  # every person predicted as rider: person TP 0, human category TP all
    preds[2][gts[2] == 26] = 29  # cars predicted as caravan: car FN, vehicle *instance* category TP (official)
    gts[3][gts[3] == 31] = 7  # no 'train' in this image's ground truth
    insts[3][gts[3] == 7] = 7
    pred_files, gt_files = _write_pairs(str(tmp_path), preds, gts, insts)
    ref = _official(pred_files, gt_files, monkeypatch)

    acc = CityscapesAccumulator("label")
    for p, g in zip(pred_files, gt_files):
        acc.add(read_label_png(g), read_label_png(p),
                read_label_png(g.replace("labelIds", "instanceIds")).astype(np.int32), name=p)
    ours = acc.scores()
    _assert_same(ours, ref)
    assert np.array_equal(np.array(ours["confMatrix"]), np.array(ref["confMatrix"]))
    # the case is not degenerate: scores are neither all 0/1 nor NaN
    assert 0.2 < ours["averageScoreClasses"] < 0.9 and 0.2 < ours["averageScoreInstClasses"] < 0.9


def test_metric_in_train_space_matches_official(tmp_path, monkeypatch):
    """Model outputs (trainIds, 255 for 'no class') through CityscapesMetric == official on their labelId PNGs."""
    rng = np.random.default_rng(1)
    metric = METRICS.build(dict(type="CityscapesMetric"))
    label_preds, gts, insts = [], [], []
    for batch in range(3):
        samples = []
        for _ in range(2):
            g, s = _scene(rng)
            train_pred = _corrupt(LABEL_TO_TRAIN[g].astype(np.int64), rng, np.r_[np.arange(19), 255])
            samples.append(dict(img_path=f"x/city_{len(gts):06d}_000019_leftImg8bit.png",
                                pred_sem_seg=torch.from_numpy(train_pred),
                                gt_sem_seg=torch.from_numpy(LABEL_TO_TRAIN[g].astype(np.int64)),
                                gt_instance=torch.from_numpy(s)))
            # the labelId file of the same prediction: 255 ('no class') written as 0 'unlabeled'
            as_label = np.where(train_pred == 255, 0, TRAIN_TO_LABEL[np.clip(train_pred, 0, 18)])
            label_preds.append(as_label.astype(np.uint8))
            gts.append(g)
            insts.append(s)
        metric.process({}, samples)
        assert len(metric.results) == 1  # running sums, not one entry per image
    ours = metric.evaluate(size=len(gts))
    ref = _official(*_write_pairs(str(tmp_path), label_preds, gts, insts), monkeypatch)
    for k in AVERAGES:
        assert ours[k] == pytest.approx(ref[k], abs=1e-6), k
    assert ours["mIoU"] == pytest.approx(100 * ref["averageScoreClasses"], abs=1e-4)
    assert list(ours)[0] == "mIoU"
    for name, v in ref["classScores"].items():
        if not id2label[ref["labels"][name]].ignoreInEval:
            assert ours[f"IoU.{name.replace(' ', '_')}"] == pytest.approx(v, abs=1e-6, nan_ok=True)
    for name in ("person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle"):
        assert ours[f"iIoU.{name}"] == pytest.approx(ref["classInstScores"][name], abs=1e-6)


def test_perfect_prediction_and_instance_weighting():
    gt = np.full((20, 30), 7, np.uint8)  # road
    gt[2:6, 2:6] = 26  # a small car (16 px)
    gt[8:18, 10:30] = 26  # a big car (200 px)
    inst = gt.astype(np.int32)
    inst[2:6, 2:6] = 26000
    inst[8:18, 10:30] = 26001
    pred = gt.copy()
    pred[8:18, 10:20] = 7  # half of the big car missed
    acc = CityscapesAccumulator("label")
    acc.add(gt, pred, inst)
    s = acc.scores()
    w_small, w_big = AVG_CLASS_SIZE["car"] / 16, AVG_CLASS_SIZE["car"] / 200
    tp_w, fn_w = 16 * w_small + 100 * w_big, 100 * w_big
    assert s["classInstScores"]["car"] == pytest.approx(tp_w / (tp_w + fn_w))
    assert s["classScores"]["car"] == pytest.approx(116 / 216)
    assert s["classScores"]["road"] == pytest.approx((600 - 216) / (600 - 216 + 100))
    assert math.isnan(s["classScores"]["sky"])  # absent from gt and prediction


def test_errors_name_the_image():
    acc = CityscapesAccumulator("train")
    gt = torch.zeros(4, 6, dtype=torch.int64)
    with pytest.raises(CityscapesDataError, match="img_a.png.*original"):
        acc.add(gt, torch.zeros(4, 5, dtype=torch.int64), name="img_a.png")
    with pytest.raises(CityscapesDataError, match=r"img_b.png.*\[40\]"):
        acc.add(gt + 40, gt, name="img_b.png")
    with pytest.raises(CityscapesDataError, match=r"pred.png.*\[255\].*labelIds"):
        CityscapesAccumulator("label").add(gt, gt + 255, name="pred.png")
    inst = torch.full((4, 6), 7001, dtype=torch.int32)  # road has no instances
    with pytest.raises(CityscapesDataError, match="img_c.png.*without instances"):
        CityscapesAccumulator("label").add(gt + 7, gt + 7, inst, name="img_c.png")


def test_missing_instances_make_iiou_nan_and_format_only_writes_label_ids(tmp_path):
    metric = CityscapesMetric()
    gt = torch.full((8, 8), 13, dtype=torch.int64)  # car
    metric.process({}, [dict(img_path="a/b_000001_000002_leftImg8bit.png", pred_sem_seg=gt.clone(), gt_sem_seg=gt)])
    out = metric.evaluate(1)
    assert out["mIoU"] == pytest.approx(100.0) and math.isnan(out["averageScoreInstClasses"])

    metric = CityscapesMetric(output_dir=str(tmp_path), format_only=True)
    pred = torch.tensor([[0, 13, 18, 255]])
    metric.process({}, [dict(img_path="leftImg8bit/test/bonn/bonn_000001_000002_leftImg8bit.png", pred_sem_seg=pred)])
    assert metric.evaluate(1) == {}
    written = read_label_png(str(tmp_path / "bonn" / "bonn_000001_000002_pred_labelIds.png"))
    assert written.tolist() == [[7, 26, 33, 0]]  # road, car, bicycle labelIds; 255 -> 0 'unlabeled'
    with pytest.raises(ValueError, match="output_dir"):
        CityscapesMetric(format_only=True)


@pytest.mark.parametrize("space", ["label", "train"])
def test_torch_and_numpy_kernels_agree(space, monkeypatch):
    """torch.bincount (tensors on an accelerator) and cv2.calcHist/numpy (arrays, CPU tensors) give the same sums."""
    rng = np.random.default_rng(5)
    a, b = CityscapesAccumulator(space), CityscapesAccumulator(space)
    for _ in range(2):
        g, s = _scene(rng)
        p = _corrupt(g, rng, np.arange(34))
        if space == "train":
            g, p = LABEL_TO_TRAIN[g].astype(np.int64), LABEL_TO_TRAIN[p].astype(np.int64)
        a.add(torch.from_numpy(g), torch.from_numpy(p), torch.from_numpy(s))
        b.add(torch.from_numpy(g), torch.from_numpy(p), torch.from_numpy(s), on_device=True)
    assert np.array_equal(a.conf, b.conf) and np.allclose(a.inst, b.inst) and np.allclose(a.cat, b.cat)
    assert a.conf.sum() == 2 * H * W and a.inst[2].sum() > 0 and a.cat[2].sum() > 0


# ---------------------------------------------------------------- run-length kernel (smooth maps, like real ones)
def _smooth_scene(rng: np.random.Generator, h: int = 64, w: int = 96):
    """Label-map-like ground truth / instances / prediction: large regions, so runs are long.

    Regions of every labelId (void ids, caravan/trailer instances, car pixels without instance id included); the
    prediction is the ground truth shifted with wrong rectangles of any labelId, like a model's errors.
    """
    gt = np.repeat(rng.permutation(34)[: h // 8], 8).reshape(-1, 1).repeat(w, 1).astype(np.uint8)  # 8-row bands
    inst = gt.astype(np.int32)
    for k, lid in enumerate(range(24, 34)):  # one or two rectangular instances of each instance-capable label
        for j in range(1 + k % 2):
            y, x = int(rng.integers(0, h - 10)), int(rng.integers(0, w - 12))
            gt[y:y + 10, x:x + 12] = lid
            inst[y:y + 10, x:x + 12] = lid * 1000 + j
    y, x = int(rng.integers(0, h - 6)), int(rng.integers(0, w - 6))
    gt[y:y + 6, x:x + 6], inst[y:y + 6, x:x + 6] = 26, 26  # a car group without instance id
    pred = np.roll(gt, (2, -3), axis=(0, 1))
    for _ in range(6):
        y, x = int(rng.integers(0, h - 8)), int(rng.integers(0, w - 8))
        pred[y:y + int(rng.integers(2, 8)), x:x + int(rng.integers(2, 8))] = rng.integers(0, 34)
    return gt, inst, pred


def test_run_values_expand_back_to_the_maps():
    from densenets.evaluation import cityscapes_kernels as cm

    gt, inst, pred = _smooth_scene(np.random.default_rng(3))
    values, lengths = cm.run_values([gt, pred, inst])
    assert lengths is not None and lengths.size < gt.size / cm.MIN_MEAN_RUN and lengths.sum() == gt.size
    for v, m in zip(values, (gt, pred, inst)):
        assert np.array_equal(np.repeat(v, lengths), m.ravel())
    noisy = np.random.default_rng(0).integers(0, 34, gt.shape).astype(np.uint8)
    values, lengths = cm.run_values([gt, noisy])
    assert lengths is None and np.array_equal(values[1], noisy.ravel())  # per-pixel fallback


@pytest.mark.parametrize("kernel", ["runs", "pixels"])
def test_both_cpu_kernels_match_official_on_smooth_maps(kernel, tmp_path, monkeypatch):
    from densenets.evaluation import cityscapes_kernels as cm

    rng = np.random.default_rng(11)
    gts, insts, preds = zip(*(_smooth_scene(rng) for _ in range(3)))
    pred_files, gt_files = _write_pairs(str(tmp_path), list(preds), list(gts), list(insts))
    ref = _official(pred_files, gt_files, monkeypatch)
    if kernel == "pixels":
        monkeypatch.setattr(cm, "MIN_MEAN_RUN", 10**9)
    assert (cm.run_values([gts[0], preds[0], insts[0]])[1] is None) == (kernel == "pixels")
    acc = CityscapesAccumulator("label")
    for p, g in zip(pred_files, gt_files):
        acc.add(read_label_png(g), read_label_png(p), read_label_png(g.replace("labelIds", "instanceIds")), name=p)
    ours = acc.scores()
    _assert_same(ours, ref)
    assert np.array_equal(np.array(ours["confMatrix"]), np.array(ref["confMatrix"]))
    assert 0.2 < ours["averageScoreInstClasses"] < 0.95


@pytest.mark.parametrize("space", ["label", "train"])
def test_run_pixel_and_torch_kernels_give_identical_sums(space, monkeypatch):
    from densenets.evaluation import cityscapes_kernels as cm

    rng = np.random.default_rng(12)
    runs, pixels, torch_acc = (CityscapesAccumulator(space) for _ in range(3))
    for _ in range(3):
        g, s, p = _smooth_scene(rng)
        if space == "train":  # int64 trainIds with 255, as the model and the dataset give them
            g, p = LABEL_TO_TRAIN[g].astype(np.int64), LABEL_TO_TRAIN[p].astype(np.int64)
        args = (torch.from_numpy(g), torch.from_numpy(p), torch.from_numpy(s))
        runs.add(*args)
        torch_acc.add(*args, on_device=True)
        with monkeypatch.context() as m:
            m.setattr(cm, "MIN_MEAN_RUN", 10**9)
            pixels.add(*args)
    for other in (pixels, torch_acc):
        assert np.array_equal(runs.conf, other.conf)
        assert np.allclose(runs.inst, other.inst, rtol=1e-12, atol=0) and np.allclose(runs.cat, other.cat, rtol=1e-12)
    assert runs.conf.sum() == 3 * 64 * 96 and runs.inst[2].sum() > 0 and runs.cat[2].sum() > 0
