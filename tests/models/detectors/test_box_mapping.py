"""boxes_to_original inverts the test pipeline as torchvision does (resize_boxes, horizontal flip about the image
width, clip_boxes_to_image), and both detectors map their predictions through it."""
from __future__ import annotations

import pytest
import torch
from torchvision.models.detection.transform import resize_boxes
from torchvision.ops import clip_boxes_to_image
from torchvision.transforms.v2.functional import horizontal_flip_bounding_boxes
from torchvision.tv_tensors import BoundingBoxFormat

from densenets.models.detectors.box_mapping import boxes_to_original, scale_factor
from densenets.models.detectors.faster_rcnn import FasterRCNN
from densenets.models.detectors.ssdlite import SSDLite

ORI = (300, 500)  # (h, w) of the image on disk
IMG = (240, 320)  # after the test resize
PADDED = (256, 352)  # the batch, padded to a size divisor: never the reference for the flip or the clip


def _boxes(hw: tuple[int, int], n: int = 64, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * torch.tensor([hw[1], hw[0]]) * 0.8
    wh = torch.rand(n, 2, generator=g) * torch.tensor([hw[1], hw[0]]) * 0.2 + 1
    return torch.cat([xy, xy + wh], 1)


def test_inverts_torchvision_resize_then_flip():
    original = _boxes(ORI)
    resized = resize_boxes(original, list(ORI), list(IMG))
    pipelined = horizontal_flip_bounding_boxes(resized, BoundingBoxFormat.XYXY, IMG)
    sample = dict(ori_shape=ORI, img_shape=IMG, scale_factor=(IMG[1] / ORI[1], IMG[0] / ORI[0]), flip=True)
    # float32 round trip (x * s then / s, and w - (w - x)) through 500-pixel coordinates: within 1e-4 pixels
    torch.testing.assert_close(boxes_to_original(pipelined, sample, PADDED), original, atol=1e-4, rtol=0)
    # scale_factor derived from img_shape / ori_shape when the sample does not carry it
    derived = {k: v for k, v in sample.items() if k != "scale_factor"}
    assert scale_factor(derived, PADDED) == pytest.approx(sample["scale_factor"])
    torch.testing.assert_close(boxes_to_original(pipelined, derived, PADDED), original, atol=1e-4, rtol=0)


def test_unscale_is_torchvision_postprocess_and_clips_to_the_original():
    boxes = _boxes(IMG) * 1.3 - 20  # some boxes leave the image on every side
    sample = dict(ori_shape=ORI, img_shape=IMG, scale_factor=(IMG[1] / ORI[1], IMG[0] / ORI[0]), flip=False)
    expected = clip_boxes_to_image(resize_boxes(boxes, list(IMG), list(ORI)), ORI)  # GeneralizedRCNNTransform
    got = boxes_to_original(boxes, sample, PADDED)
    torch.testing.assert_close(got, expected)
    assert got.min() == 0 and got[:, 2].max() == ORI[1] and got[:, 3].max() == ORI[0]


def test_sample_without_geometry_keeps_input_pixels():
    boxes = _boxes(PADDED)
    torch.testing.assert_close(boxes_to_original(boxes, {}, PADDED), clip_boxes_to_image(boxes, PADDED))
    flipped = boxes_to_original(boxes, dict(flip=True, img_shape=IMG), PADDED)  # mirrored about img_shape's width
    torch.testing.assert_close(flipped[:, [2, 0]], IMG[1] - clip_boxes_to_image(boxes, IMG)[:, [0, 2]])


def _ssdlite() -> SSDLite:
    torch.manual_seed(0)
    return SSDLite(backbone=dict(name="mobilenet_v3_small", reduced_tail="detection"), num_classes=3).eval()


def _faster_rcnn() -> FasterRCNN:
    torch.manual_seed(0)
    return FasterRCNN(dict(name="mobilenet_v1", width_mult=0.25), num_classes=3, anchor_sizes=(32, 64, 128),
                      rpn_pre_nms_top_n_test=200, rpn_post_nms_top_n_test=50, box_score_thresh=0.0).eval()


@pytest.mark.parametrize("build", [_ssdlite, _faster_rcnn], ids=["ssdlite", "faster_rcnn"])
def test_both_detectors_map_predictions_through_it(build):
    model = build()
    image = torch.randint(0, 256, (3, *IMG), dtype=torch.uint8, generator=torch.Generator().manual_seed(3))
    plain = dict(img_path="a.jpg", img_shape=IMG, ori_shape=IMG, flip=False)
    # the same network input, from a larger original and mirrored; no scale_factor: derived from the shapes
    mapped = dict(img_path="a.jpg", img_shape=IMG, ori_shape=ORI, flip=True)
    data = model.data_preprocessor(dict(inputs=[image, image], data_samples=[plain, mapped]), False)
    with torch.no_grad():
        a, b = model(**data, mode="predict")
    assert len(a["pred_boxes"]) > 0
    torch.testing.assert_close(b["pred_boxes"], boxes_to_original(a["pred_boxes"], mapped, IMG))
    torch.testing.assert_close(b["pred_scores"], a["pred_scores"])
