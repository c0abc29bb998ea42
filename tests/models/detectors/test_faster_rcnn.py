"""FasterRCNN: the C4 backbone-tail head, the batch contract (labels, original-pixel boxes), errors, tensor mode."""
from __future__ import annotations

import pytest
import torch

from densenets.analysis.complexity import count_complexity
from densenets.models.backbones import build_backbone
from densenets.models.detectors.faster_rcnn import FasterRCNN
from densenets.models.heads.rcnn_tail_head import BackboneTailHead

SMALL = dict(anchor_sizes=(32, 64, 128), rpn_pre_nms_top_n_test=200, rpn_post_nms_top_n_train=100,
             rpn_post_nms_top_n_test=50, box_batch_size_per_image=32, box_score_thresh=0.0)


def _c4_model(**kwargs) -> FasterRCNN:
    torch.manual_seed(0)
    return FasterRCNN(dict(name="mobilenet_v1", width_mult=0.25), num_classes=3, **{**SMALL, **kwargs})


def _batch(model: FasterRCNN, samples: list[dict], sizes=((160, 200), (192, 144))) -> dict:
    g = torch.Generator().manual_seed(1)
    images = [torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g) for h, w in sizes]
    for s, (h, w) in zip(samples, sizes):
        s.setdefault("img_shape", (h, w))
    return model.data_preprocessor(dict(inputs=images, data_samples=samples))


@pytest.mark.parametrize(
    "name, options",
    [("mobilenet_v1", {}), ("shufflenet_v1", dict(groups=3)), ("shufflenet_v2", {})],
)
def test_tail_head_turns_14x14_crops_into_7x7(name, options):
    backbone = build_backbone(name, out_taps=("C4",), **options)
    head = BackboneTailHead(backbone)
    c4, c5 = backbone.feature_info["C4"], backbone.feature_info["C5"]
    assert (c4.stride, c5.stride) == (16, 32)
    roi = torch.randn(2, c4.channels, 14, 14)
    assert head.tail_features(roi).shape == (2, c5.channels, 7, 7)
    assert head(roi).shape == (2, c5.channels) and head.out_channels == c5.channels


def test_tail_head_shares_the_backbone_layers():
    model = _c4_model()
    assert isinstance(model.roi_heads.box_head, BackboneTailHead)
    assert model.backbone.out_taps == ("C4",)
    keys = list(model.state_dict())
    assert not any(k.startswith("roi_heads.box_head") for k in keys)  # conv 12-13 are stored once, as backbone.*
    assert any(k.startswith("backbone.units.conv13.") for k in keys)
    assert model.roi_heads.box_predictor.cls_score.out_features == 4  # 3 classes + background
    # the head runs the backbone's own conv 12-13: on a C4 map it reproduces the backbone's C5
    full = build_backbone("mobilenet_v1", width_mult=0.25, out_taps=("C4", "C5")).eval()
    full.load_state_dict(model.backbone.state_dict())
    model.eval()
    with torch.no_grad():
        feats = full(torch.randn(1, 3, 64, 64))
        torch.testing.assert_close(model.roi_heads.box_head.tail_features(feats["C4"]), feats["C5"])


def test_loss_step_trains_both_stages():
    model = _c4_model().train()
    samples = [
        dict(img_path="a.jpg", gt_boxes=torch.tensor([[10.0, 20.0, 90.0, 120.0], [100.0, 40.0, 190.0, 150.0]]),
             gt_labels=torch.tensor([0, 2])),
        dict(img_path="b.jpg", gt_boxes=torch.zeros(0, 4), gt_labels=torch.zeros(0, dtype=torch.int64)),
    ]
    data = _batch(model, samples)
    assert data["inputs"].shape == (2, 3, 192, 224)  # padded to the size divisor 32
    losses = model(**data, mode="loss")
    assert set(losses) == {"loss_objectness", "loss_rpn_box_reg", "loss_classifier", "loss_box_reg"}
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    for name in ("rpn.head.cls_logits.weight", "roi_heads.box_predictor.bbox_pred.weight",
                 "backbone.units.conv13.pointwise.0.weight", "backbone.units.stem.0.weight"):
        grad = dict(model.named_parameters())[name].grad
        assert grad is not None and grad.abs().sum() > 0, name


def test_predict_boxes_are_in_original_pixels():
    model = _c4_model().eval()

    def predict(**extra):
        data = _batch(model, [dict(img_path="a.jpg", **extra)], sizes=((160, 200),))
        with torch.no_grad():
            return model(**data, mode="predict")[0]

    base = predict(ori_shape=(160, 200), scale_factor=(1.0, 1.0))
    assert len(base["pred_boxes"]) > 0 and base["img_path"] == "a.jpg"
    assert base["pred_labels"].min() >= 0 and base["pred_labels"].max() < 3
    # the same network input from a 4x wider, 2x taller original: boxes scale back by (1/sx, 1/sy)
    scaled = predict(ori_shape=(320, 800), scale_factor=(0.25, 0.5))
    torch.testing.assert_close(scaled["pred_boxes"], base["pred_boxes"] * torch.tensor([4.0, 2.0, 4.0, 2.0]))
    assert scaled["pred_boxes"][:, 2].max() > 200  # beyond the network input, inside the original
    assert (scaled["pred_boxes"][:, 2] <= 800).all() and (scaled["pred_boxes"][:, 3] <= 320).all()
    flipped = predict(ori_shape=(160, 200), scale_factor=(1.0, 1.0), flip=True)
    b = base["pred_boxes"]
    torch.testing.assert_close(flipped["pred_boxes"], torch.stack([200 - b[:, 2], b[:, 1], 200 - b[:, 0], b[:, 3]], 1))


def test_predict_works_in_training_mode_and_keeps_bn_mode():
    model = _c4_model().train()
    data = _batch(model, [dict(ori_shape=(160, 200), scale_factor=(1.0, 1.0))], sizes=((160, 200),))
    with torch.no_grad():
        out = model(**data, mode="predict")
    assert "pred_boxes" in out[0]
    assert model.rpn.training and model.roi_heads.training and model.backbone.training


@pytest.mark.parametrize(
    "sample, message",
    [
        (dict(gt_boxes=torch.tensor([[0.0, 0.0, 10.0, 10.0]]), gt_labels=torch.tensor([3])), "gt_labels must lie"),
        (dict(gt_boxes=torch.tensor([[5.0, 0.0, 5.0, 10.0]]), gt_labels=torch.tensor([0])), "positive width"),
        (dict(gt_boxes=torch.zeros(2, 4), gt_labels=torch.tensor([0])), "2 gt_boxes but 1 gt_labels"),
    ],
)
def test_bad_targets_name_the_file(sample, message):
    model = _c4_model().train()
    data = _batch(model, [dict(img_path="data/bad_image.jpg", **sample)], sizes=((64, 64),))
    with pytest.raises(ValueError, match=rf"data/bad_image.jpg: .*{message}"):
        model(**data, mode="loss")


def test_bad_options_are_rejected():
    with pytest.raises(ValueError, match="neck must be"):
        _c4_model(neck="bifpn")
    with pytest.raises(ValueError, match="use neck=None"):
        _c4_model(neck="fpn")
    with pytest.raises(ValueError, match="needs a 'name'"):
        FasterRCNN(dict(width_mult=0.25))


def test_tensor_mode_counts_a_fixed_number_of_rois():
    model = _c4_model(tensor_num_rois=10)
    with torch.no_grad():
        out = model(torch.zeros(1, 3, 128, 128), mode="tensor")
    assert out["rois"].shape == (1, 10, 4) and out["cls_logits"].shape == (10, 4)
    assert out["box_deltas"].shape == (10, 16) and list(out["features"]) == ["C4"]
    c10 = count_complexity(model, (128, 128))
    model.tensor_num_rois = 20
    c20 = count_complexity(model, (128, 128))
    # the per-RoI head cost: conv 12-13 on a 14x14 crop of the 0.25x MobileNetV1 (128 -> 256 ch) + predictor
    dw12 = 7 * 7 * 128 * 9
    pw12 = 7 * 7 * 128 * 256
    dw13 = 7 * 7 * 256 * 9
    pw13 = 7 * 7 * 256 * 256
    predictor = 256 * 4 + 256 * 16
    assert c20.madds - c10.madds == 10 * (dw12 + pw12 + dw13 + pw13 + predictor)
    assert c10.params == c20.params == sum(p.numel() for p in model.parameters())


def test_mobilenet_v1_c4_matches_mobilenet_paper_table_13():
    """MobileNet paper Table 13, Faster R-CNN 300 with MobileNet: 25.2 B MAdds, 6.1 M params (COCO, 300 proposals)."""
    from pathlib import Path

    from mmengine.config import Config

    from densenets.registry import MODELS

    cfg = Config.fromfile(Path(__file__).resolve().parents[3] / "configs/faster_rcnn_mobilenet_v1_300.py")
    model = MODELS.build(dict(cfg.model, num_classes=90, tensor_num_rois=0))  # TF's COCO label map: 90 ids
    image = count_complexity(model, (300, 300))
    model.tensor_num_rois = 2
    per_roi = (count_complexity(model, (300, 300)).madds - image.madds) // 2
    assert cfg.model.rpn_post_nms_top_n_test == 300
    assert round((image.madds + 300 * per_roi) / 1e9, 1) == 25.2
    assert round(image.params / 1e6, 1) == 6.1
