"""SSDLite in torchvision's form (RF2 MobileNetV3-Large, torchvision anchors, softmax + hard-negative mining) against
``torchvision.models.detection.ssdlite320_mobilenet_v3_large`` with shared weights: same parameter count, same head
outputs, same losses."""
from __future__ import annotations

import pytest
import torch
from torchvision.models.detection import ssdlite320_mobilenet_v3_large

from densenets.models import SSDLite

TV_NUM_PARAMS = 3_440_060  # torchvision's weights meta


@pytest.fixture(scope="module")
def pair() -> tuple[SSDLite, torch.nn.Module]:
    torch.manual_seed(0)
    tv = ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None)  # no backbone weights: reduced tail
    ours = SSDLite(
        backbone=dict(name="mobilenet_v3_large", reduced_tail="detection"),
        num_classes=90, anchor_layout="torchvision", loss="softmax_hnm",
    )
    src, dst = tv.state_dict(), ours.state_dict()
    assert len(src) == len(dst)
    for (k_src, v_src), (k_dst, v_dst) in zip(src.items(), dst.items()):
        assert v_src.shape == v_dst.shape, (k_src, k_dst)
    ours.load_state_dict(dict(zip(dst.keys(), src.values())))
    return ours, tv


def test_parameter_count_matches_torchvision(pair):
    ours, tv = pair
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in tv.parameters()) == TV_NUM_PARAMS


def test_same_head_outputs(pair):
    ours, tv = pair
    ours.eval(), tv.eval()
    x = torch.rand(1, 3, 320, 320) * 2 - 1
    with torch.no_grad():
        cls, box = ours(x, mode="tensor")
        ref = tv.head(list(tv.backbone(x).values()))
    assert cls.shape == ref["cls_logits"].shape == (1, 3234, 91)
    assert torch.allclose(cls, ref["cls_logits"], atol=1e-4)
    assert torch.allclose(box, ref["bbox_regression"], atol=1e-4)


def test_same_training_losses(pair):
    ours, tv = pair
    ours.train(), tv.train()
    torch.manual_seed(1)
    images = [torch.randint(0, 256, (3, 320, 320), dtype=torch.uint8) for _ in range(2)]
    boxes = [torch.tensor([[10.0, 20.0, 120.0, 200.0], [150.0, 40.0, 300.0, 110.0]]), torch.tensor([[5.0, 5.0, 60.0, 90.0]])]
    labels = [torch.tensor([0, 17]), torch.tensor([89])]
    with torch.no_grad():
        ref = tv([im.float() / 255 for im in images], [{"boxes": b, "labels": lab + 1} for b, lab in zip(boxes, labels)])
        data = ours.data_preprocessor(
            {"inputs": images, "data_samples": [{"gt_boxes": b, "gt_labels": lab} for b, lab in zip(boxes, labels)]}, True
        )
        got = ours(**data, mode="loss")
    assert got["loss_cls"].item() == pytest.approx(ref["classification"].item(), rel=1e-4)
    assert got["loss_bbox"].item() == pytest.approx(ref["bbox_regression"].item(), rel=1e-4)
