"""Batched post-processing against a per-image, per-class reference loop."""
from __future__ import annotations

import torch
from torchvision.ops import nms

from densenets.models.detectors.ssd_postprocess import SSDPostProcessor


def _random(batch: int, anchors: int, classes: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(batch, anchors, 2, generator=g) * 100
    boxes = torch.cat([xy, xy + 5 + torch.rand(batch, anchors, 2, generator=g) * 40], -1)
    return torch.rand(batch, anchors, classes, generator=g), boxes


def _reference(scores, boxes, score_thr, iou, max_per_img):
    out = []
    for s_img, b_img in zip(scores, boxes):
        rows = []
        for c in range(s_img.shape[1]):
            keep = s_img[:, c] > score_thr
            b, s = b_img[keep], s_img[keep, c]
            k = nms(b, s, iou)
            rows += [(s[i].item(), c, tuple(b[i].tolist())) for i in k]
        rows.sort(key=lambda r: -r[0])
        out.append(rows[:max_per_img])
    return out


def test_equals_per_class_loop_when_topk_covers_everything():
    scores, boxes = _random(3, 60, 4)
    post = SSDPostProcessor(score_thr=0.2, nms_iou=0.6, max_per_img=100, topk=60 * 4)
    dets = post(scores, boxes)
    ref = _reference(scores, boxes, 0.2, 0.6, 100)
    assert dets.counts == [len(r) for r in ref]
    for (b, s, lab), r in zip(dets.split(), ref):
        assert torch.allclose(s, torch.tensor([x[0] for x in r]))
        assert lab.tolist() == [x[1] for x in r]
        assert torch.allclose(b, torch.tensor([x[2] for x in r]))


def test_max_per_img_and_topk_keep_the_exact_top_results():
    scores, boxes = _random(2, 400, 6, seed=3)
    ref = _reference(scores, boxes, 0.0, 0.6, 100)
    assert all(len(r) == 100 for r in ref)
    dets = SSDPostProcessor(score_thr=0.0, nms_iou=0.6, max_per_img=100, topk=500)(scores, boxes)
    assert dets.counts == [100, 100]
    for (b, s, lab), r in zip(dets.split(), ref):  # >= 100 survivors among the top 500: the same top 100
        assert torch.allclose(s, torch.tensor([x[0] for x in r]))
        assert lab.tolist() == [x[1] for x in r]
    small = SSDPostProcessor(score_thr=0.0, nms_iou=0.6, max_per_img=100, topk=30)(scores, boxes)
    assert max(small.counts) <= 30 and torch.all(small.batch_idx[:-1] <= small.batch_idx[1:])


def test_empty_image_and_threshold():
    scores, boxes = _random(2, 50, 3, seed=4)
    scores[1] = 0.0  # nothing above the threshold in image 1
    dets = SSDPostProcessor(score_thr=1e-8)(scores, boxes)
    assert dets.counts[1] == 0 and dets.counts[0] > 0
    assert (dets.scores > 1e-8).all()
