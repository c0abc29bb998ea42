"""Segmentation transforms: padding with the ignore label, nearest-neighbour labels, flip consistency, seeding."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from densenets.datasets.demo.cityscapes_demo import make_tiny_cityscapes_demo
from densenets.datasets.transforms.seg_transforms import (
    SegPhotoMetricDistortion,
    SegRandomCrop,
    SegRandomFlip,
    SegRandomScale,
    SegResize,
)
from densenets.registry import DATASETS, TRANSFORMS


def _results(h: int = 40, w: int = 60, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    seg = rng.integers(0, 19, (h // 4, w // 4)).repeat(4, 0).repeat(4, 1).astype(np.uint8)
    # the image encodes the label in its red channel so that geometric consistency can be checked
    img[:, :, 0] = seg * 10
    inst = seg.astype(np.int32) * 1000 + 1
    return dict(img=img, gt_seg_map=seg, gt_instance=inst, img_shape=(h, w), ori_shape=(h, w), flip=False)


def test_crop_pads_label_with_ignore_and_image_with_pad_val():
    r = _results(40, 60)
    seg0, img0 = r["gt_seg_map"].copy(), r["img"].copy()
    out = SegRandomCrop(crop_size=(64, 80), pad_val=(1, 2, 3), seg_pad_val=255)(r)
    assert out["img"].shape == (64, 80, 3) and out["gt_seg_map"].shape == (64, 80) and out["img_shape"] == (64, 80)
    assert np.array_equal(out["gt_seg_map"][:40, :60], seg0) and np.array_equal(out["img"][:40, :60], img0)
    assert (out["gt_seg_map"][40:] == 255).all() and (out["gt_seg_map"][:, 60:] == 255).all()
    assert (out["img"][40:] == (1, 2, 3)).all()


def test_crop_window_is_the_same_for_image_and_labels():
    torch.manual_seed(0)
    crop = SegRandomCrop(crop_size=(16, 24))
    for _ in range(5):
        out = crop(_results())
        assert out["gt_seg_map"].shape == (16, 24)
        assert np.array_equal(out["img"][:, :, 0], out["gt_seg_map"] * 10)
        assert np.array_equal(out["gt_instance"], out["gt_seg_map"].astype(np.int32) * 1000 + 1)


def test_random_scale_range_and_nearest_labels():
    scale = TRANSFORMS.build(dict(type="SegRandomScale", ratio_range=(0.5, 2.0)))
    sizes = set()
    for _ in range(8):
        r = _results(40, 60)
        labels_in = set(np.unique(r["gt_seg_map"]).tolist())
        out = scale(r)
        h, w = out["gt_seg_map"].shape
        assert out["img"].shape[:2] == (h, w) == out["img_shape"]
        assert 20 <= h <= 80 and abs(w / h - 1.5) < 0.1
        assert set(np.unique(out["gt_seg_map"]).tolist()) <= labels_in  # nearest neighbour: no new label values
        sizes.add(h)
    assert len(sizes) > 2
    with pytest.raises(ValueError, match="ratio_range"):
        SegRandomScale((2.0, 0.5))


def test_flip_is_consistent_and_recorded():
    r = _results()
    img0, seg0, inst0 = r["img"].copy(), r["gt_seg_map"].copy(), r["gt_instance"].copy()
    out = SegRandomFlip(prob=1.0)(r)
    assert out["flip"] is True
    assert np.array_equal(out["img"], img0[:, ::-1]) and np.array_equal(out["gt_seg_map"], seg0[:, ::-1])
    assert np.array_equal(out["gt_instance"], inst0[:, ::-1])
    out = SegRandomFlip(prob=0.0)(_results())
    assert out["flip"] is False and np.array_equal(out["img"], img0)


def test_photometric_changes_image_only():
    r = _results()
    seg0, img0 = r["gt_seg_map"].copy(), r["img"].copy()
    out = SegPhotoMetricDistortion(p=1.0)(r)
    assert np.array_equal(out["gt_seg_map"], seg0) and not np.array_equal(out["img"], img0)
    assert out["img"].dtype == np.uint8


def test_resize_keeps_labels_at_original_size_by_default():
    out = SegResize(size=(20, 30))(_results(40, 60))
    assert out["img"].shape == (20, 30, 3) and out["img_shape"] == (20, 30) and out["gt_seg_map"].shape == (40, 60)
    out = SegResize(size=(20, 30), resize_labels=True)(_results(40, 60))
    assert out["gt_seg_map"].shape == (20, 30)


def test_seeded_by_torch_seed_per_process():
    def run() -> list:
        torch.manual_seed(123)
        t = SegRandomScale()  # a fresh transform seeds itself on first use
        return [t(_results())["img"].shape for _ in range(4)]

    assert run() == run()


def test_train_pipeline_from_config(tmp_path):
    root = make_tiny_cityscapes_demo(str(tmp_path / "demo"), num_train=2, num_val=1)
    pipeline = [dict(type="LoadImageFromFile"), dict(type="LoadCityscapesAnnotations"),
                dict(type="SegRandomScale", ratio_range=(0.5, 2.0)), dict(type="SegRandomCrop", crop_size=(48, 96)),
                dict(type="SegRandomFlip", prob=0.5), dict(type="SegPhotoMetricDistortion"), dict(type="PackSegInputs")]
    ds = DATASETS.build(dict(type="CityscapesDataset", data_root=root, split="train", pipeline=pipeline))
    torch.manual_seed(0)
    for i in range(len(ds)):
        item = ds[i]
        assert item["inputs"].shape == (3, 48, 96) and item["data_samples"]["gt_sem_seg"].shape == (48, 96)
        assert item["data_samples"]["img_shape"] == (48, 96) and item["data_samples"]["ori_shape"] == (64, 128)
