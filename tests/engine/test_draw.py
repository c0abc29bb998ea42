"""Drawing detections and segmentation maps, and the hook behind ``tools/test.py --show-dir``."""
from __future__ import annotations

import logging
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from cityscapesscripts.helpers.labels import trainId2label
from PIL import Image

from densenets.engine import DenseVisualizationHook, draw_detections, draw_sample, draw_segmentation
from densenets.datasets.cityscapes_labels import CITYSCAPES_PALETTE


def test_cityscapes_palette_is_the_official_one():
    pal = CITYSCAPES_PALETTE  # the default palette of draw_segmentation
    assert len(pal) == 19
    assert pal[0] == (128, 64, 128) and pal[13] == (0, 0, 142)  # road, car
    assert all(pal[i] == tuple(trainId2label[i].color) for i in range(19))


def test_segmentation_blend():
    img = np.full((4, 5, 3), 100, np.uint8)
    seg = torch.zeros(4, 5, dtype=torch.int64)
    seg[0, 0] = 255
    seg[1, 1] = 13
    out = draw_segmentation(img, seg, alpha=0.5)
    np.testing.assert_array_equal(out[0, 0], [100, 100, 100])  # ignore label: untouched
    np.testing.assert_array_equal(out[1, 1], [50, 50, 121])  # 0.5 * 100 + 0.5 * (0, 0, 142)
    np.testing.assert_array_equal(out[2, 2], [114, 82, 114])  # road (128, 64, 128)
    with pytest.raises(ValueError, match="differ in size"):
        draw_segmentation(img, seg[:3])


def test_detections_drawn_above_threshold_only():
    img = np.zeros((60, 80, 3), np.uint8)
    boxes = torch.tensor([[10.0, 10.0, 50.0, 40.0], [60.0, 45.0, 75.0, 55.0]])
    out = draw_detections(img, boxes, torch.tensor([0.9, 0.1]), torch.tensor([1, 2]), ["a", "b", "c"], score_thr=0.3)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert out[40, 30].any() and out[25, 50].any()  # bottom and right edges of the kept box
    assert not out[30, 30].any()  # inside the box, away from the caption
    assert not out[45:56, 60:76].any()  # the low-score box is not drawn
    with pytest.raises(ValueError, match="lengths differ"):
        draw_detections(img, boxes, torch.tensor([0.9]), torch.tensor([1, 2]))


def test_hook_writes_drawn_test_images(tmp_path):
    path = tmp_path / "frame.jpg"
    Image.fromarray(np.full((30, 40, 3), 20, np.uint8)).save(path)
    det = dict(img_path=str(path), pred_boxes=torch.tensor([[2.0, 2.0, 30.0, 25.0]]),
               pred_scores=torch.tensor([0.8]), pred_labels=torch.tensor([0]))
    seg = dict(img_path=str(path), pred_sem_seg=torch.full((30, 40), 11))
    assert draw_sample(dict(img_path=str(path), pred_label=3)) is None

    runner = SimpleNamespace(
        work_dir=str(tmp_path / "work"), logger=logging.getLogger("test"),
        test_dataloader=SimpleNamespace(dataset=SimpleNamespace(metainfo=dict(classes=("person",)))),
    )
    hook = DenseVisualizationHook(draw=True, show_dir="show")
    hook.before_test(runner)
    hook.after_test_iter(runner, 0, None, [det])
    drawn = np.asarray(Image.open(tmp_path / "work" / "show" / "frame.png"))
    assert drawn.shape == (30, 40, 3) and drawn[25, 15].max() > 20  # the box's bottom edge

    hook.after_test_iter(runner, 1, None, [seg])
    drawn = np.asarray(Image.open(tmp_path / "work" / "show" / "frame.png"))
    expected = np.round(0.5 * 20 + 0.5 * np.array((220, 20, 60))).astype(np.uint8)  # person
    assert (drawn == expected).all()

    off = DenseVisualizationHook()
    off.before_test(runner)
    off.after_test_iter(runner, 0, None, [det])  # draw=False: nothing happens
