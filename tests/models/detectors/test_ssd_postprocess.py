"""Batched post-processing against a plain per-image, per-class loop over ALL candidates, in the order of TF OD API
``core/post_processing.py`` ``multiclass_non_max_suppression``: per class, score > threshold, NMS, at most
``max_size_per_class``; then all classes sorted by score, at most ``max_total_size``."""
from __future__ import annotations

import torch
from torchvision.ops import nms

from densenets.models.detectors.ssd_postprocess import SSDPostProcessor


def _random(batch: int, anchors: int, classes: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(batch, anchors, 2, generator=g) * 100
    boxes = torch.cat([xy, xy + 5 + torch.rand(batch, anchors, 2, generator=g) * 40], -1)
    return torch.rand(batch, anchors, classes, generator=g), boxes


def _reference(scores, boxes, score_thr, iou, max_per_img, max_per_class=100):
    out = []
    for s_img, b_img in zip(scores, boxes):
        rows = []
        for c in range(s_img.shape[1]):
            keep = s_img[:, c] > score_thr
            b, s = b_img[keep], s_img[keep, c]
            k = nms(b, s, iou)[:max_per_class]
            rows += [(s[i].item(), c, tuple(b[i].tolist())) for i in k]
        rows.sort(key=lambda r: -r[0])
        out.append(rows[:max_per_img])
    return out


def _assert_equal(dets, ref):
    assert dets.counts == [len(r) for r in ref]
    for (b, s, lab), r in zip(dets.split(), ref):
        torch.testing.assert_close(s, torch.tensor([x[0] for x in r]).reshape(-1), rtol=0, atol=0)
        assert lab.tolist() == [x[1] for x in r]
        torch.testing.assert_close(b, torch.tensor([x[2] for x in r]).reshape(-1, 4), rtol=0, atol=0)


def _cluster(batch: int, anchors: int, classes: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``anchors`` boxes jittered around one box (all pairwise IoU > 0.6), with the best scores, then 300 isolated
    boxes on a grid with lower scores."""
    g = torch.Generator().manual_seed(seed)
    base = torch.tensor([100.0, 100.0, 200.0, 200.0])
    dense = base + torch.rand(batch, anchors, 4, generator=g) * 4
    yx = torch.stack(torch.meshgrid(torch.arange(15), torch.arange(20), indexing="ij"), -1).reshape(-1, 2) * 30.0
    iso = torch.cat([yx + 400, yx + 420], -1).expand(batch, -1, -1)
    boxes = torch.cat([dense, iso], 1)
    scores = torch.cat([0.5 + 0.5 * torch.rand(batch, anchors, classes, generator=g),
                        0.4 * torch.rand(batch, iso.shape[1], classes, generator=g)], 1)
    return scores, boxes


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
    _assert_equal(small, ref)  # topk bounds the first pass, never the result
    assert torch.all(small.batch_idx[:-1] <= small.batch_idx[1:])


def test_dense_cluster_loses_nothing():
    """1500 overlapping anchors outscore everything else: their best 1000 (anchor, class) pairs suppress one another
    to one box per class, yet NMS over all candidates leaves the 300 isolated boxes too (capped at 100)."""
    scores, boxes = _cluster(2, 1500, 3)
    ref = _reference(scores, boxes, 1e-8, 0.6, 100)
    assert [len(r) for r in ref] == [100, 100] and sum(1 for x in ref[0] if x[2][0] < 300) == 3
    _assert_equal(SSDPostProcessor(score_thr=1e-8, nms_iou=0.6, max_per_img=100, topk=1000)(scores, boxes), ref)


def test_dense_cluster_with_fewer_survivors_than_the_cap():
    scores, boxes = _cluster(1, 1200, 2, seed=1)
    scores[:, 1200 + 40:] = 0.0  # only 40 isolated boxes are candidates: 2 + 2 * 40 survivors < 100
    ref = _reference(scores, boxes, 1e-8, 0.6, 100)
    assert len(ref[0]) == 82
    _assert_equal(SSDPostProcessor(topk=1000)(scores, boxes), ref)


def test_many_classes_per_anchor_and_the_per_class_cap():
    """Every anchor scores in 40 classes; more survivors than the caps (5 per class, 150 per image)."""
    scores, boxes = _random(3, 300, 40, seed=5)
    ref = _reference(scores, boxes, 0.05, 0.6, 150, max_per_class=5)
    assert all(len(r) == 150 for r in ref)
    assert max(sum(1 for x in ref[0] if x[1] == c) for c in range(40)) == 5
    post = SSDPostProcessor(score_thr=0.05, nms_iou=0.6, max_per_img=150, topk=50, max_per_class=5)
    _assert_equal(post(scores, boxes), ref)
    # TF's config values (100 per class, 100 in all), a batch of one
    _assert_equal(SSDPostProcessor(topk=100)(scores[:1], boxes[:1]), _reference(scores[:1], boxes[:1], 1e-8, 0.6, 100))


def test_empty_image_and_threshold():
    scores, boxes = _random(2, 50, 3, seed=4)
    scores[1] = 0.0  # nothing above the threshold in image 1
    dets = SSDPostProcessor(score_thr=1e-8)(scores, boxes)
    assert dets.counts[1] == 0 and dets.counts[0] > 0
    assert (dets.scores > 1e-8).all()


def test_nms_by_group_equals_batched_nms_across_slices():
    """Slices of whole groups give torchvision's ``batched_nms`` result: many small groups (several slices), one
    group larger than a slice, groups absent from the ids, one box, no boxes."""
    from torchvision.ops import batched_nms

    from densenets.models.detectors.ssd_postprocess import GROUP_SLICE, nms_by_group

    g = torch.Generator().manual_seed(3)
    for n, num_groups in ((1000, 90), (3 * GROUP_SLICE, 2), (700, 700), (1, 1)):
        xy = torch.rand(n, 2, generator=g) * 60
        boxes = torch.cat([xy, xy + 5 + torch.rand(n, 2, generator=g) * 30], 1)
        scores = torch.rand(n, generator=g)
        groups = torch.randint(0, num_groups, (n,), generator=g) * 3  # ids with gaps
        kept = nms_by_group(boxes, scores, groups, 0.6)
        ref = batched_nms(boxes, scores, groups, 0.6)
        assert torch.equal(kept, ref), (n, num_groups)
    assert nms_by_group(torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, dtype=torch.int64), 0.6).numel() == 0
