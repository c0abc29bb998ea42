"""The detection pipelines keep boxes and pixels consistent (a real geometric check), and record what they did."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from densenets.datasets.transforms import (
    Albumentations,
    MinIoURandomCrop,
    PackDetInputs,
    ResizeShortestEdge,
    SSDPhotometricDistort,
)

COLOURS = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]], np.uint8)


def _scene(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Black image with up to four filled, non-overlapping rectangles, one colour each (label = colour index)."""
    h, w = int(rng.integers(200, 320)), int(rng.integers(200, 320))
    img = np.zeros((h, w, 3), np.uint8)
    boxes = []
    for k, (gx, gy) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)]):  # one quadrant each: no overlap
        x1 = int(gx * w / 2 + rng.integers(2, w // 8))
        y1 = int(gy * h / 2 + rng.integers(2, h // 8))
        x2 = int(x1 + rng.integers(25, w // 2 - (x1 - gx * w / 2) - 2))
        y2 = int(y1 + rng.integers(25, h // 2 - (y1 - gy * h / 2) - 2))
        img[y1:y2, x1:x2] = COLOURS[k]
        boxes.append((x1, y1, x2, y2))
    return img, np.array(boxes, np.float32), np.arange(4)


SSD_GEOMETRY = [
    dict(type="ZoomOut", max_ratio=3.0, fill=(0, 0, 0), p=0.5),
    dict(type="MinIoURandomCrop"),
    dict(type="HorizontalFlip", p=0.5),
    dict(type="Resize", height=320, width=320),
]


def test_ssd_pipeline_boxes_follow_pixels():
    """Draw each box as a filled rectangle; after zoom-out, IoU crop, flip and resize to 320x320 the pixels of each
    colour must still fill exactly the transformed box (up to interpolation at the edges)."""
    torch.manual_seed(0)  # the pipeline seeds albumentations from torch.initial_seed() in each process
    aug = Albumentations(SSD_GEOMETRY)
    rng = np.random.default_rng(0)
    n_checked = n_flipped = n_cropped_away = 0
    for _ in range(30):
        img, boxes, labels = _scene(rng)
        out = aug({"img": img, "gt_boxes": boxes, "gt_labels": labels})
        assert out["img"].shape == (320, 320, 3) and out["img_shape"] == (320, 320)
        n_flipped += out["flip"]
        n_cropped_away += 4 - len(out["gt_labels"])
        for box, lab in zip(out["gt_boxes"], out["gt_labels"]):
            mask = np.abs(out["img"].astype(int) - COLOURS[lab]).sum(-1) < 60
            ys, xs = np.nonzero(mask)
            assert len(xs) > 0, "a kept box must still show its object"
            pixel_box = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)
            np.testing.assert_allclose(pixel_box, box, atol=2.5)
            n_checked += 1
    assert n_checked > 40 and 5 <= n_flipped <= 25 and n_cropped_away > 0
    assert aug.stats["images"] == 30 and aug.stats["boxes_dropped"] == n_cropped_away


def test_full_ssd_pipeline_runs_and_flip_mirrors_boxes():
    aug = Albumentations([dict(type="SSDPhotometricDistort"), *SSD_GEOMETRY])
    rng = np.random.default_rng(1)
    img, boxes, labels = _scene(rng)
    out = PackDetInputs()(dict(aug(dict(img=img, gt_boxes=boxes, gt_labels=labels)), img_id=3, ori_shape=img.shape[:2]))
    assert out["inputs"].shape == (3, 320, 320) and out["inputs"].dtype == torch.uint8
    assert out["data_samples"]["gt_boxes"].shape[1] == 4

    flip = Albumentations([dict(type="HorizontalFlip", p=1.0)])
    out = flip(dict(img=img, gt_boxes=boxes, gt_labels=labels))
    w = img.shape[1]
    assert out["flip"] is True
    np.testing.assert_allclose(out["gt_boxes"][:, [2, 0]], w - boxes[:, [0, 2]], atol=1e-4)
    np.testing.assert_array_equal(out["img"], img[:, ::-1])


def test_min_iou_crop_satisfies_its_constraint():
    crop = MinIoURandomCrop(min_ious=(0.5,))
    crop.set_random_seed(0)
    boxes = np.array([[30, 40, 190, 170], [150, 10, 190, 60]], np.float32)
    h, w = 200, 240
    n_crops = 0
    for _ in range(200):
        x1, y1, x2, y2 = crop._sample(boxes, h, w)
        if (x1, y1, x2, y2) == (0, 0, w, h):
            continue
        n_crops += 1
        cw, ch = x2 - x1, y2 - y1
        assert 0.5 <= ch / cw <= 2 and cw >= 0.3 * w - 1 and ch >= 0.3 * h - 1
        cx, cy = boxes[:, [0, 2]].mean(1), boxes[:, [1, 3]].mean(1)
        inside = (cx > x1) & (cx < x2) & (cy > y1) & (cy < y2)
        iw = np.clip(np.minimum(boxes[:, 2], x2) - np.maximum(boxes[:, 0], x1), 0, None)
        ih = np.clip(np.minimum(boxes[:, 3], y2) - np.maximum(boxes[:, 1], y1), 0, None)
        iou = iw * ih / ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) + cw * ch - iw * ih)
        assert inside.any() and iou[inside].max() >= 0.5
    assert 30 < n_crops < 170  # None ("no crop") is one of the two options
    assert crop._sample(np.zeros((0, 4), np.float32), h, w) == (0, 0, w, h)  # no boxes: no crop


def test_photometric_distort_identity_and_range():
    img = np.random.default_rng(0).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    same = Albumentations([SSDPhotometricDistort(p_each=0.0)])(dict(img=img.copy()))["img"]
    np.testing.assert_array_equal(same, img)
    t = SSDPhotometricDistort(p_each=1.0)
    t.set_random_seed(0)
    out = t(image=img)["image"]
    assert out.shape == img.shape and out.dtype == np.uint8 and not np.array_equal(out, img)


@pytest.mark.parametrize(
    "hw, short, max_long, want",
    [((480, 640), 600, 1000, (600, 800)), ((300, 1200), 600, 1000, (250, 1000)), ((427, 640), 300, 1000, (300, 450))],
)
def test_resize_shortest_edge(hw, short, max_long, want):
    assert ResizeShortestEdge.target_size(*hw, short, max_long) == want
    img = np.zeros((*hw, 3), np.uint8)
    boxes = np.array([[10, 20, 110, 220]], np.float32)
    out = Albumentations([dict(type="ResizeShortestEdge", short=short, max_long=max_long), dict(type="HorizontalFlip",
                                                                                                   p=0.0)])(
        dict(img=img, gt_boxes=boxes, gt_labels=np.array([0]))
    )
    assert out["img"].shape[:2] == want
    sy, sx = want[0] / hw[0], want[1] / hw[1]
    np.testing.assert_allclose(out["gt_boxes"], boxes * [sx, sy, sx, sy], rtol=1e-5)


def test_test_pipeline_scale_factor_maps_back_to_original_pixels():
    img = np.zeros((240, 400, 3), np.uint8)
    boxes = np.array([[40, 30, 200, 150], [0, 0, 400, 240]], np.float32)
    res = Albumentations([dict(type="Resize", height=320, width=320)])(
        dict(img=img, gt_boxes=boxes, gt_labels=np.array([0, 1]), ori_shape=(240, 400))
    )
    s = PackDetInputs()(dict(res, img_id=1, img_path="x.jpg"))["data_samples"]
    sx, sy = s["scale_factor"]
    assert s["img_shape"] == (320, 320) and s["ori_shape"] == (240, 400) and not s["flip"]
    np.testing.assert_allclose(s["gt_boxes"].numpy() / [sx, sy, sx, sy], boxes, atol=1e-3)


def test_unknown_albumentations_name():
    with pytest.raises(KeyError, match="NoSuchTransform"):
        Albumentations([dict(type="NoSuchTransform")])
