"""CityscapesDataset on a generated dataset in the official layout: mapping, samples, and every error case."""
from __future__ import annotations

import os
import shutil

import cv2
import numpy as np
import pytest
import torch
from cityscapesscripts.helpers.labels import id2label, trainId2label

from densenets.datasets.cityscapes import CityscapesDataset
from densenets.datasets.cityscapes_labels import (
    CITYSCAPES_CLASSES,
    CITYSCAPES_PALETTE,
    CityscapesDataError,
    label_ids_to_train_ids,
)
from densenets.datasets.demo.cityscapes_demo import make_cityscapes_demo, make_tiny_cityscapes_demo
from densenets.registry import DATASETS
from tool_loader import load_tool


#: the test pipeline of configs/_base_/datasets/cityscapes_769x769.py
PIPELINE = [dict(type="LoadImageFromFile"), dict(type="LoadCityscapesAnnotations"), dict(type="PackSegInputs")]


def _dataset(root: str, split: str, **kwargs) -> CityscapesDataset:
    return CityscapesDataset(root, split, pipeline=PIPELINE, **kwargs)


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory) -> str:
    return make_tiny_cityscapes_demo(str(tmp_path_factory.mktemp("cs") / "demo"))


def _copy(demo_root: str, tmp_path) -> str:
    root = str(tmp_path / "copy")
    shutil.copytree(demo_root, root)
    return root


def _first(root: str, split: str, kind: str) -> str:
    base = os.path.join(root, "gtFine" if kind != "leftImg8bit" else "leftImg8bit", split)
    city = sorted(os.listdir(base))[0]
    return os.path.join(base, city, sorted(f for f in os.listdir(os.path.join(base, city)) if kind in f)[0])


def test_metainfo_is_cityscapesscripts_train_table():
    assert CITYSCAPES_CLASSES == tuple(trainId2label[t].name for t in range(19))
    assert CITYSCAPES_PALETTE == tuple(trainId2label[t].color for t in range(19))


def test_label_to_train_mapping_matches_cityscapesscripts():
    ids = np.arange(34, dtype=np.uint8).reshape(2, 17)
    expected = [id2label[i].trainId if id2label[i].trainId not in (-1, 255) else 255 for i in range(34)]
    assert label_ids_to_train_ids(ids).ravel().tolist() == expected


def test_val_samples_follow_the_design_contract(demo_root):
    ds = DATASETS.build(dict(type="CityscapesDataset", data_root=demo_root, split="val", pipeline=PIPELINE))
    assert len(ds) == 2 and ds.metainfo["classes"] == CITYSCAPES_CLASSES
    item = ds[0]
    img, s = item["inputs"], item["data_samples"]
    assert img.dtype == torch.uint8 and img.shape == (3, 64, 128)
    assert s["ori_shape"] == s["img_shape"] == (64, 128) and s["flip"] is False
    label_ids = cv2.imread(s["seg_map_path"], cv2.IMREAD_UNCHANGED)
    expected = np.vectorize(lambda i: id2label[int(i)].trainId if id2label[int(i)].trainId >= 0 else 255)(label_ids)
    assert s["gt_sem_seg"].dtype == torch.int64 and np.array_equal(s["gt_sem_seg"].numpy(), expected)
    assert (s["gt_sem_seg"] == 255).any() and (s["gt_sem_seg"] == 13).any()  # ignored border/bonnet, cars
    inst = cv2.imread(s["seg_map_path"].replace("labelIds", "instanceIds"), cv2.IMREAD_UNCHANGED)
    assert s["gt_instance"].dtype == torch.int32 and np.array_equal(s["gt_instance"].numpy(), inst)
    cars = np.unique(inst[inst >= 26000])
    assert len(cars) >= 1 and (cars // 1000 == 26).all()
    # RGB order: the stored PNG is BGR
    assert np.array_equal(img.permute(1, 2, 0).numpy(), cv2.imread(s["img_path"])[:, :, ::-1])


def test_train_has_no_instances_and_test_has_no_labels(demo_root, tmp_path):
    train = _dataset(demo_root, "train")
    assert len(train) == 3 and "gt_instance" not in train[0]["data_samples"]
    root = str(tmp_path / "with_test")
    make_cityscapes_demo(root, num_train=0, num_val=0, num_test=1, size=(32, 64))
    test = _dataset(root, "test")
    assert len(test) == 1 and "gt_sem_seg" not in test[0]["data_samples"]


def test_missing_folders_are_named(tmp_path, demo_root):
    with pytest.raises(CityscapesDataError, match="leftImg8bit/train"):
        _dataset(str(tmp_path / "nowhere"), "train")
    root = _copy(demo_root, tmp_path)
    shutil.rmtree(os.path.join(root, "gtFine", "train"))
    with pytest.raises(CityscapesDataError, match="gtFine/train"):
        _dataset(root, "train")
    with pytest.raises(ValueError, match="split"):
        _dataset(root, "training")


def test_image_without_label_names_both_files(tmp_path, demo_root):
    root = _copy(demo_root, tmp_path)
    label = _first(root, "val", "labelIds")
    os.remove(label)
    with pytest.raises(CityscapesDataError, match=f"leftImg8bit.png: its label file {label} is missing"):
        _dataset(root, "val")
    inst = _first(root, "train", "instanceIds")
    os.remove(inst)
    _dataset(root, "train")  # no instances needed for training
    with pytest.raises(CityscapesDataError, match="instance file"):
        _dataset(root, "train", with_instance=True)


@pytest.mark.parametrize("problem", ["size", "ids", "colour", "corrupt"])
def test_bad_label_files_are_named(tmp_path, demo_root, problem):
    root = _copy(demo_root, tmp_path)
    label = _first(root, "val", "labelIds")
    ok = cv2.imread(label, cv2.IMREAD_UNCHANGED)
    if problem == "size":
        cv2.imwrite(label, ok[:-2])
        match = "label map is 62x128 but its image"
    elif problem == "ids":
        bad = ok.copy()
        bad[0, 0], bad[1, 1] = 40, 255
        cv2.imwrite(label, bad)
        match = r"label ids \[40, 255\] are not in the Cityscapes label table"
    elif problem == "colour":
        cv2.imwrite(label, np.repeat(ok[:, :, None], 3, 2))
        match = "must have one channel"
    else:
        with open(label, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\nnot really")
        match = "cannot decode"
    ds = _dataset(root, "val")
    with pytest.raises(CityscapesDataError, match=match) as err:
        ds[0]
    assert label in str(err.value)


def test_palette_label_png_reads_indices(tmp_path, demo_root):
    from PIL import Image

    root = _copy(demo_root, tmp_path)
    label = _first(root, "val", "labelIds")
    ids = cv2.imread(label, cv2.IMREAD_UNCHANGED)
    img = Image.fromarray(ids, mode="L").convert("P")
    img.putpalette([v for i in range(256) for v in id2label.get(i, id2label[0]).color])
    img.save(label)
    ds = _dataset(root, "val")
    assert np.array_equal(ds[0]["data_samples"]["gt_sem_seg"].numpy(), label_ids_to_train_ids(ids))


def test_demo_is_deterministic(tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    make_cityscapes_demo(a, num_train=1, num_val=1, seed=3, size=(32, 64))
    make_cityscapes_demo(b, num_train=1, num_val=1, seed=3, size=(32, 64))
    for kind in ("leftImg8bit", "labelIds", "instanceIds", "color"):
        fa = _first(a, "val", kind)
        fb = fa.replace(a, b)
        assert np.array_equal(cv2.imread(fa, -1), cv2.imread(fb, -1)), kind


def test_make_demo_data_cityscapes_subcommand(tmp_path):
    mod = load_tool("make_demo_data.py")
    out = str(tmp_path / "demo")
    assert mod.main(["cityscapes", "--out", out, "--num-train", "2", "--num-val", "1", "--size", "32", "64"]) == 0
    ds = _dataset(out, "val")
    assert len(ds) == 1 and ds[0]["inputs"].shape == (3, 32, 64)
    assert len(_dataset(out, "train")) == 2


def test_the_dataset_only_lists_samples(demo_root):
    """Like COCO: decoding is the pipeline's job, so without one a sample is its file list (nothing decoded)."""
    ds = CityscapesDataset(demo_root, "val")
    info = ds[0]
    assert "img" not in info and "inputs" not in info
    assert info["img_path"].endswith("_leftImg8bit.png") and info["seg_map_path"].endswith("_gtFine_labelIds.png")
    assert info["instance_path"].endswith("_gtFine_instanceIds.png")
    assert "seg_map_path" not in CityscapesDataset(demo_root, "val", with_label=False)[0]


@pytest.mark.parametrize("kind", ["L-pillow", "L-opencv", "I16-pillow", "I16-opencv", "P-pillow", "L-interlaced",
                                  "L-transparency"])
def test_label_png_decoding_is_identical_to_pillow(tmp_path, kind):
    """The fast grayscale path (libpng via torchvision) and the fallbacks give exactly Pillow's arrays."""
    from PIL import Image

    from densenets.datasets import cityscapes_labels as cl

    rng = np.random.default_rng(0)
    blocks = rng.integers(0, 34, (12, 20)).repeat(8, 0).repeat(8, 1)  # label-map-like regions
    path = str(tmp_path / "label.png")
    if kind.startswith("I16"):
        arr = (blocks * 1000 + rng.integers(0, 3, blocks.shape)).astype(np.uint16)
        arr[0, :3] = (65535, 256, 1)  # both bytes of the big-endian samples matter
    else:
        arr = blocks.astype(np.uint8)
    if kind.endswith("opencv"):
        cv2.imwrite(path, arr)
    elif kind == "P-pillow":
        img = Image.fromarray(arr, mode="L").convert("P")
        img.putpalette([v for i in range(256) for v in id2label.get(i, id2label[0]).color])
        img.save(path)
    elif kind == "L-interlaced":  # neither Pillow nor OpenCV writes interlaced PNGs: flip the IHDR flag
        Image.fromarray(arr).save(path)
        raw = open(path, "rb").read()
        raw = raw[:28] + b"\x01" + raw[29:]  # the fast path must decline anything but non-interlaced grey
        with open(path, "wb") as f:
            f.write(raw)
        assert cl._decode_gray_png(path) is None
        return
    elif kind == "L-transparency":
        Image.fromarray(arr).save(path, transparency=0)
    else:
        Image.fromarray(arr).save(path)
    with Image.open(path) as img:
        expected = np.array(img)
    got = cl.read_label_png(path)
    assert got.dtype == expected.dtype and np.array_equal(got, expected)
    fast = cl._decode_gray_png(path)
    if kind == "P-pillow":
        assert fast is None  # palette: the general path (indices through Pillow)
    else:
        assert fast is not None and np.array_equal(fast, expected)
