"""SSD anchors: the TF layout hand-checked, the torchvision layout equal to torchvision's own generator."""
from __future__ import annotations

import math

import torch
from torchvision.models.detection import ssdlite320_mobilenet_v3_large
from torchvision.models.detection.image_list import ImageList

from densenets.models.detectors.ssd_anchors import SSDAnchorGenerator, tf_box_specs

GRIDS_320 = [(20, 20), (10, 10), (5, 5), (3, 3), (2, 2), (1, 1)]


def _wh(boxes: torch.Tensor) -> torch.Tensor:
    return boxes[:, 2:] - boxes[:, :2]


def test_tf_counts_per_layer():
    gen = SSDAnchorGenerator("tf")
    assert gen.num_anchors_per_location() == [3, 6, 6, 6, 6, 6]
    anchors = gen.anchors(GRIDS_320, (320, 320))
    assert anchors.shape == (20 * 20 * 3 + (100 + 25 + 9 + 4 + 1) * 6, 4) == (2034, 4)


def test_tf_scales_and_ratios_by_hand():
    specs = tf_box_specs()
    assert specs[0] == [(0.1, 1.0), (0.2, 2.0), (0.2, 0.5)]
    expected_scales = [0.2, 0.35, 0.5, 0.65, 0.8, 0.95]
    for layer in range(1, 6):
        s = expected_scales[layer]
        nxt = expected_scales[layer + 1] if layer < 5 else 1.0
        got = specs[layer]
        assert [r for _, r in got] == [1.0, 2.0, 0.5, 3.0, 1.0 / 3.0, 1.0]
        assert all(math.isclose(sc, s) for sc, _ in got[:5])
        assert math.isclose(got[5][0], math.sqrt(s * nxt))

    anchors = SSDAnchorGenerator("tf").anchors(GRIDS_320, (320, 320))
    # lowest layer, cell (0, 0): centre (0.025, 0.025), boxes 0.1x0.1, 0.2*sqrt2 x 0.2/sqrt2, transposed
    first = anchors[:3]
    assert torch.allclose((first[:, :2] + first[:, 2:]) / 2, torch.full((3, 2), 0.5 / 20))
    r2 = math.sqrt(2.0)
    assert torch.allclose(_wh(first), torch.tensor([[0.1, 0.1], [0.2 * r2, 0.2 / r2], [0.2 / r2, 0.2 * r2]]))
    # lowest layer, cell (y=0, x=1) comes next (row-major, boxes innermost)
    assert torch.allclose((anchors[3, :2] + anchors[3, 2:]) / 2, torch.tensor([1.5 / 20, 0.5 / 20]))
    # second layer, cell (0, 0): 0.35 at the five ratios, then sqrt(0.35 * 0.5)
    second = anchors[1200:1206]
    w = torch.tensor([0.35, 0.35 * r2, 0.35 / r2, 0.35 * math.sqrt(3), 0.35 / math.sqrt(3), math.sqrt(0.35 * 0.5)])
    h = torch.tensor([0.35, 0.35 / r2, 0.35 * r2, 0.35 / math.sqrt(3), 0.35 * math.sqrt(3), math.sqrt(0.35 * 0.5)])
    assert torch.allclose(_wh(second), torch.stack([w, h], 1), atol=1e-6)
    # last layer: one cell centred in the image, extra box at sqrt(0.95 * 1.0), not clipped
    last = anchors[-6:]
    assert torch.allclose((last[:, :2] + last[:, 2:]) / 2, torch.full((6, 2), 0.5))
    assert math.isclose(_wh(last)[5, 0].item(), math.sqrt(0.95), rel_tol=1e-6)
    assert last[3, 0] < 0  # 0.95 * sqrt(3) wide: extends past the image as in TF


def test_tf_non_square_input_keeps_boxes_square_in_pixels():
    gen = SSDAnchorGenerator("tf")
    px = gen.pixel_anchors([(10, 20), (5, 10), (3, 5), (2, 3), (1, 2), (1, 1)], (160, 320))
    wh = _wh(px)
    ratio1 = torch.tensor([0, 3 * 200])  # first box of layer 0 (0.1 @ 1) and of layer 1 (0.35 @ 1)
    assert torch.allclose(wh[ratio1, 0], wh[ratio1, 1])  # ratio-1 boxes are square in pixels
    assert math.isclose(wh[0, 0].item(), 0.1 * 160, rel_tol=1e-5)  # relative to the shorter side


def test_torchvision_layout_equals_default_box_generator():
    tv = ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None).anchor_generator
    images = ImageList(torch.zeros(1, 3, 320, 320), [(320, 320)])
    feats = [torch.zeros(1, 1, h, w) for h, w in GRIDS_320]
    expected = tv(images, feats)[0]
    gen = SSDAnchorGenerator("torchvision")
    assert gen.num_anchors_per_location() == tv.num_anchors_per_location() == [6] * 6
    assert torch.allclose(gen.pixel_anchors(GRIDS_320, (320, 320)), expected, atol=1e-4)


def test_anchors_are_cached():
    gen = SSDAnchorGenerator("tf")
    assert gen.anchors(GRIDS_320, (320, 320)) is gen.anchors(GRIDS_320, (320, 320))
    assert gen.pixel_anchors(GRIDS_320, (320, 320)) is gen.pixel_anchors(GRIDS_320, (320, 320))
