"""The Faster R-CNN configs against the recipes they quote, written from the reference files:

* FPN configs quoting torchvision's 32.8 / 22.8 mAP: torchvision ``models/detection/faster_rcnn.py``
  ``_fasterrcnn_mobilenet_v3_large_fpn`` (``weights_backbone=MobileNet_V3_Large_Weights.IMAGENET1K_V1``,
  ``FrozenBatchNorm2d``, ``trainable_backbone_layers=3``) and ``backbone_utils.py`` ``_mobilenet_extractor``;
* C4 configs: TF OD API ``faster_rcnn_*_coco.config`` (``first_stage_localization_loss_weight: 2.0``,
  ``second_stage_localization_loss_weight: 2.0``, ``batch_non_max_suppression { score_threshold: 0.0
  iou_threshold: 0.6 max_detections_per_class: 100 max_total_detections: 300 }``, ``first_stage_max_proposals: 300``,
  ``first_stage_nms_iou_threshold: 0.7``) and ``faster_rcnn_meta_arch.py`` (no top-k before the first-stage NMS).
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from torchvision.models import mobilenet_v3_large
from torchvision.models.detection.backbone_utils import _mobilenet_extractor
from torchvision.ops.misc import FrozenBatchNorm2d

from densenets.models.backbones.torchvision_weights import mobilenet_v3_keys
from densenets.models.detectors.faster_rcnn import FasterRCNN
from densenets.registry import MODELS

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.filterwarnings("ignore:torchvision weights .* are not in torch.hub's cache")


def _trainable_torchvision_names(trainable_layers: int) -> set[str]:
    body = _mobilenet_extractor(mobilenet_v3_large(norm_layer=FrozenBatchNorm2d), True, trainable_layers).body
    return {f"features.{n}" for n, p in body.named_parameters() if p.requires_grad}


@pytest.mark.parametrize("config", ["faster_rcnn_mbv3_large_fpn.py", "faster_rcnn_mbv3_large_320_fpn.py"])
def test_fpn_configs_use_torchvision_recipe(config: str) -> None:
    cfg = Config.fromfile(str(ROOT / "configs" / config))
    assert cfg.model.backbone.weights == "MobileNet_V3_Large_Weights.IMAGENET1K_V1"
    model = MODELS.build(cfg.model)
    backbone = model.backbone
    keys = mobilenet_v3_keys(backbone)
    ours = {keys[n] for n, p in backbone.named_parameters() if p.requires_grad}
    assert ours == _trainable_torchvision_names(3)  # features[:7] frozen, every BN frozen
    assert backbone.pending_weights.name == "MobileNet_V3_Large_Weights.IMAGENET1K_V1"
    backbone.train()
    assert all(not m.training for m in backbone.modules() if isinstance(m, torch.nn.BatchNorm2d))


SCRATCH = ["faster_rcnn_mbv3_large_fpn_scratch.py", "faster_rcnn_mbv3_large_320_fpn_scratch.py"]


@pytest.mark.parametrize("config", SCRATCH)
def test_scratch_configs_train_everything(config: str) -> None:
    cfg = Config.fromfile(str(ROOT / "configs" / config))
    backbone = MODELS.build(cfg.model).backbone
    assert cfg.model.backbone.weights is None and backbone.pending_weights is None
    assert all(p.requires_grad for p in backbone.parameters())
    backbone.train()
    assert all(m.training for m in backbone.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_c4_base_has_the_tf_od_api_values() -> None:
    m = Config.fromfile(str(ROOT / "configs" / "faster_rcnn_mobilenet_v1_600.py")).model
    assert (m.box_score_thresh, m.box_nms_thresh, m.box_detections_per_class, m.box_detections_per_img) == \
        (0.0, 0.6, 100, 300)
    assert m.loss_weights == dict(loss_rpn_box_reg=2.0, loss_box_reg=2.0)
    assert (m.rpn_nms_thresh, m.rpn_post_nms_top_n_train, m.rpn_post_nms_top_n_test) == (0.7, 300, 300)
    assert min(m.rpn_pre_nms_top_n_train, m.rpn_pre_nms_top_n_test) >= 10**9  # no pre-NMS top-k
    assert m.backbone.activation == "relu6"  # TF-slim mobilenet_v1_arg_scope


def _tiny(**kw) -> FasterRCNN:
    torch.manual_seed(0)
    return FasterRCNN(dict(name="mobilenet_v3_small", width_mult=0.5), num_classes=4, neck="fpn", roi_head="two_mlp",
                      rpn_post_nms_top_n_train=32, rpn_post_nms_top_n_test=64, box_batch_size_per_image=8,
                      representation_size=32, fpn_channels=16, **kw)


def _samples() -> tuple[torch.Tensor, list[dict]]:
    x = torch.randn(1, 3, 128, 128)
    return x, [dict(gt_boxes=torch.tensor([[10.0, 10.0, 80.0, 90.0]]), gt_labels=torch.tensor([1]))]


def test_loss_weights_scale_the_named_losses() -> None:
    x, samples = _samples()
    plain = _tiny()
    weighted = _tiny(loss_weights=dict(loss_rpn_box_reg=2.0, loss_box_reg=2.0))
    weighted.load_state_dict(plain.state_dict())
    torch.manual_seed(1)
    a = plain.loss(x, samples)
    torch.manual_seed(1)
    b = weighted.loss(x, samples)
    for k in a:
        torch.testing.assert_close(b[k], a[k] * (2.0 if k in ("loss_rpn_box_reg", "loss_box_reg") else 1.0))
    with pytest.raises(ValueError, match="loss_weights"):
        _tiny(loss_weights=dict(loss_bbox=2.0))


def test_per_class_cap_then_total_cap_in_tf_order() -> None:
    """TF multiclass_non_max_suppression: per class at most max_size_per_class, then the best max_total_size."""
    x, _ = _samples()
    free = _tiny(box_score_thresh=0.0, box_detections_per_img=10**9).eval()
    capped = _tiny(box_score_thresh=0.0, box_detections_per_class=3, box_detections_per_img=7).eval()
    capped.load_state_dict(free.state_dict())
    with torch.no_grad():
        ref, out = free.predict(x)[0], capped.predict(x)[0]
    rows = []
    for c in range(4):  # plain loop: each class's best 3, then the best 7 overall
        idx = (ref["pred_labels"] == c).nonzero().flatten()[:3]
        rows += [(ref["pred_scores"][i].item(), c) for i in idx]
    rows = sorted(rows, key=lambda r: -r[0])[:7]
    assert len(ref["pred_scores"]) > 7 and len(rows) == 7
    assert [(round(s, 6), c) for s, c in rows] == \
        [(round(s, 6), c) for s, c in zip(out["pred_scores"].tolist(), out["pred_labels"].tolist())]
