"""Matching, box coding and the two SSD losses: hand-made cases and torchvision's own SSD loss as reference."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.ssd import SSD
from torchvision.ops import box_iou

from densenets.models.detectors.ssd_loss import SSDFocalLoss, SSDSoftmaxHNMLoss, build_ssd_loss
from densenets.models.detectors.ssd_targets import SSDTargetAssigner

ANCHORS = torch.tensor(
    [
        [0.0, 0.0, 10.0, 10.0],
        [0.0, 0.0, 10.0, 20.0],  # IoU 0.5 with a 10x10 box at the origin
        [50.0, 50.0, 60.0, 60.0],
        [52.0, 50.0, 62.0, 60.0],
        [80.0, 80.0, 100.0, 100.0],
    ]
)


def test_matcher_threshold_is_inclusive_and_best_anchor_forced():
    assigner = SSDTargetAssigner()
    gt = torch.tensor([[0.0, 0.0, 10.0, 10.0], [85.0, 85.0, 89.0, 89.0]])  # 2nd: best IoU 16/400 = 0.04
    matched = assigner.match(gt, ANCHORS)
    assert matched.tolist() == [0, 0, -1, -1, 1]  # IoU exactly 0.5 is positive; gt 1 forced onto anchor 4


def test_forced_match_overrides_threshold_winner():
    # both gts overlap anchors 2 and 3; gt 1's best anchor is 3, so anchor 3 goes to gt 1 even if gt 0 is >= 0.5 there
    gt = torch.tensor([[51.0, 50.0, 61.0, 60.0], [53.0, 50.0, 63.0, 60.0]])
    iou = box_iou(gt, ANCHORS)
    assert iou[0, 3] >= 0.5 and iou[1, 3] > iou[1, 2]
    matched = SSDTargetAssigner().match(gt, ANCHORS)
    assert matched[3] == 1 and matched[2] == 0


def test_empty_ground_truth_is_all_background():
    labels, targets = SSDTargetAssigner()([torch.zeros(0, 4)], [torch.zeros(0, dtype=torch.int64)], ANCHORS)
    assert (labels == -1).all() and (targets == 0).all()


def test_batched_targets_match_per_image_reference():
    torch.manual_seed(0)
    anchors = torch.rand(200, 2) * 80
    anchors = torch.cat([anchors, anchors + 5 + torch.rand(200, 2) * 30], 1)
    gts = [torch.tensor([[10.0, 10.0, 40.0, 30.0], [50.0, 20.0, 90.0, 70.0]]), torch.zeros(0, 4), torch.tensor([[0.0, 0.0, 20.0, 20.0]])]
    labs = [torch.tensor([3, 7]), torch.zeros(0, dtype=torch.int64), torch.tensor([1])]
    assigner = SSDTargetAssigner()
    labels, box_t = assigner(gts, labs, anchors)
    coder = det_utils.BoxCoder((10.0, 10.0, 5.0, 5.0))
    matcher = det_utils.SSDMatcher(0.5)
    for i, (g, lab) in enumerate(zip(gts, labs)):
        if g.numel() == 0:
            assert (labels[i] == -1).all()
            continue
        m = matcher(box_iou(g, anchors))
        pos = m >= 0
        assert torch.equal(labels[i][pos], lab[m[pos]]) and (labels[i][~pos] == -1).all()
        assert torch.allclose(box_t[i][pos], coder.encode_single(g[m[pos]], anchors[pos]), atol=1e-5)


def test_box_coder_round_trip():
    torch.manual_seed(1)
    anchors = ANCHORS
    gt = ANCHORS + torch.randn(5, 4)
    gt[:, 2:] = torch.maximum(gt[:, 2:], gt[:, :2] + 1)
    assigner = SSDTargetAssigner()
    codes = assigner.box_coder.encode_single(gt, anchors)
    assert assigner.box_coder.weights == (10.0, 10.0, 5.0, 5.0)
    decoded = assigner.decode(codes[None].repeat(2, 1, 1), anchors)
    assert decoded.shape == (2, 5, 4)
    assert torch.allclose(decoded[1], gt, atol=1e-4)


def test_focal_and_smooth_l1_by_hand():
    # one anchor, matched to class 0 of 2; logits 0 -> p = 0.5 for both classes
    loss = SSDFocalLoss(alpha=0.75, gamma=2.0)
    cls = torch.zeros(1, 1, 2)
    deltas = torch.tensor([[[0.5, -2.0, 0.0, 1.0]]])
    target = torch.tensor([[[0.0, 0.0, 0.0, 0.0]]])
    out = loss(cls, deltas, torch.tensor([[0]]), target)
    pos = 0.75 * 0.5**2 * math.log(2)  # -alpha (1-p)^g log p
    neg = 0.25 * 0.5**2 * math.log(2)  # -(1-alpha) p^g log(1-p)
    assert out["loss_cls"].item() == pytest.approx(pos + neg, rel=1e-6)
    smooth = 0.5 * 0.5**2 + (2.0 - 0.5) + 0.0 + (1.0 - 0.5)  # 0.125 + 1.5 + 0 + 0.5, divided by code size 4
    assert out["loss_bbox"].item() == pytest.approx(smooth / 4, rel=1e-6)


def test_focal_normalised_by_matches_and_background_all_zero():
    loss = SSDFocalLoss()
    cls = torch.tensor([[[2.0, -1.0], [0.5, 0.5]], [[-3.0, 1.0], [0.0, 0.0]]])  # [B=2, A=2, C=2]
    labels = torch.tensor([[1, -1], [-1, -1]])  # one match in the batch
    out = loss(cls, torch.zeros(2, 2, 4), labels, torch.zeros(2, 2, 4))
    p = cls.sigmoid()
    t = torch.zeros(2, 2, 2)
    t[0, 0, 1] = 1
    ce = -(t * p.log() + (1 - t) * (1 - p).log())
    pt = p * t + (1 - p) * (1 - t)
    ref = ((0.75 * t + 0.25 * (1 - t)) * (1 - pt) ** 2 * ce).sum() / 1
    assert out["loss_cls"].item() == pytest.approx(ref.item(), rel=1e-6)
    # no match at all: normalised by 1, not 0
    out = loss(cls, torch.zeros(2, 2, 4), torch.full((2, 2), -1), torch.zeros(2, 2, 4))
    assert torch.isfinite(out["loss_cls"]) and out["loss_bbox"].item() == 0


def test_softmax_hnm_equals_torchvision_ssd_loss():
    torch.manual_seed(2)
    batch, num_anchors, num_classes = 3, 300, 5
    anchors = torch.rand(num_anchors, 2) * 200
    anchors = torch.cat([anchors, anchors + 10 + torch.rand(num_anchors, 2) * 60], 1)
    targets = []
    for n in (3, 1, 4):
        xy = torch.rand(n, 2) * 150
        boxes = torch.cat([xy, xy + 20 + torch.rand(n, 2) * 60], 1)
        targets.append({"boxes": boxes, "labels": torch.randint(1, num_classes + 1, (n,))})
    cls_logits = torch.randn(batch, num_anchors, num_classes + 1)
    box_reg = torch.randn(batch, num_anchors, 4)
    matcher = det_utils.SSDMatcher(0.5)
    matched = [matcher(box_iou(t["boxes"], anchors)) for t in targets]
    fake = SimpleNamespace(box_coder=det_utils.BoxCoder((10.0, 10.0, 5.0, 5.0)), neg_to_pos_ratio=3.0)
    ref = SSD.compute_loss(fake, targets, {"cls_logits": cls_logits, "bbox_regression": box_reg}, [anchors] * batch, matched)

    labels, box_t = SSDTargetAssigner()([t["boxes"] for t in targets], [t["labels"] - 1 for t in targets], anchors)
    ours = build_ssd_loss("softmax_hnm")(cls_logits, box_reg, labels, box_t)
    assert isinstance(build_ssd_loss("softmax_hnm"), SSDSoftmaxHNMLoss)
    assert ours["loss_cls"].item() == pytest.approx(ref["classification"].item(), rel=1e-5)
    assert ours["loss_bbox"].item() == pytest.approx(ref["bbox_regression"].item(), rel=1e-5)


def test_unknown_loss_is_a_clear_error():
    with pytest.raises(ValueError, match="softmax_hnm"):
        build_ssd_loss("hinge")
