"""Every configs/faster_rcnn_*.py builds, trains one step on a tiny batch and predicts boxes in original pixels."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper

from densenets.registry import MODELS

ROOT = Path(__file__).resolve().parents[3]
CONFIGS = sorted((ROOT / "configs").glob("faster_rcnn_*.py"))
DEMO_CONFIGS = sorted((ROOT / "configs" / "demo").glob("faster_rcnn*_demo.py"))


def _distinct_models() -> list[tuple[str, dict]]:
    """One entry per distinct model dict (the _300 and _600 configs of a backbone share theirs)."""
    seen: dict[str, tuple[str, dict]] = {}
    for path in CONFIGS + DEMO_CONFIGS:
        model = Config.fromfile(path).model.to_dict()
        name, _ = seen.get(repr(model), ("", model))
        seen[repr(model)] = ("+".join(filter(None, [name, path.stem.removeprefix("faster_rcnn_")])), model)
    return list(seen.values())


MODELS_OF_CONFIGS = _distinct_models()
# shorter / longer side of each config's resize (ShuffleNet Table 7: 300 / 600; torchvision: 800 / 320)
SIZES = {"600": (600, 1000), "300": (300, 500), "mbv3_large_fpn": (800, 1333), "mbv3_large_320_fpn": (320, 640)}


def test_all_configs_are_listed():
    names = {p.stem for p in CONFIGS}
    expected = {f"faster_rcnn_{n}" for n in (
        "shufflenet_v1_2x_g3_600", "shufflenet_v1_1x_g3_600", "mobilenet_v1_600", "shufflenet_v1_2x_g3_300",
        "shufflenet_v1_1x_g3_300", "mobilenet_v1_300", "mbv3_large_fpn", "mbv3_large_320_fpn", "shufflenet_v2_x1_600",
        "mbv3_large_fpn_scratch", "mbv3_large_320_fpn_scratch")}
    assert expected <= names and DEMO_CONFIGS


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_resize_is_in_the_pipeline(path):
    cfg = Config.fromfile(path)
    key = next(k for k in SIZES if path.stem.removesuffix("_scratch").endswith(k))
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        resize = loader.dataset.pipeline[1].transforms[0]
        assert resize.type == "ResizeShortestEdge" and (resize.short, resize.max_long) == SIZES[key]
    assert cfg.model.data_preprocessor.size_divisor == 32 and cfg.default_scope == "densenets"


@pytest.mark.filterwarnings("ignore:torchvision weights .* are not in torch.hub's cache")
@pytest.mark.parametrize("names, model_cfg", MODELS_OF_CONFIGS, ids=[n for n, _ in MODELS_OF_CONFIGS])
def test_config_trains_one_step_and_predicts(names, model_cfg):
    torch.manual_seed(0)
    model_cfg = dict(model_cfg, num_classes=3)
    model_cfg.update(rpn_post_nms_top_n_train=32, rpn_post_nms_top_n_test=8, box_batch_size_per_image=4,
                     box_score_thresh=0.0)
    model = MODELS.build(model_cfg)
    g = torch.Generator().manual_seed(0)
    images = [torch.randint(0, 256, (3, 160, 200), dtype=torch.uint8, generator=g),
              torch.randint(0, 256, (3, 192, 150), dtype=torch.uint8, generator=g)]
    samples = [
        dict(img_id=1, img_path="a.jpg", ori_shape=(320, 400), img_shape=(160, 200), scale_factor=(0.5, 0.5),
             gt_boxes=torch.tensor([[10.0, 20.0, 90.0, 120.0], [100.0, 40.0, 190.0, 150.0]]),
             gt_labels=torch.tensor([0, 2]), flip=False),
        dict(img_id=2, img_path="b.jpg", ori_shape=(192, 150), img_shape=(192, 150), scale_factor=(1.0, 1.0),
             gt_boxes=torch.tensor([[30.0, 30.0, 120.0, 170.0]]), gt_labels=torch.tensor([1]), flip=True),
    ]
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))
    model.train()
    before = model.rpn.head.cls_logits.weight.detach().clone()
    losses = model.train_step(dict(inputs=images, data_samples=[dict(s) for s in samples]), optim)
    assert set(losses) >= {"loss", "loss_objectness", "loss_rpn_box_reg", "loss_classifier", "loss_box_reg"}
    assert all(torch.isfinite(v) for v in losses.values())
    assert not torch.equal(before, model.rpn.head.cls_logits.weight)

    model.eval()
    test_samples = [{k: v for k, v in s.items() if not k.startswith("gt_")} for s in samples]
    preds = model.test_step(dict(inputs=images, data_samples=test_samples))
    assert [p["img_id"] for p in preds] == [1, 2]
    for p, s in zip(preds, samples):
        assert len(p["pred_boxes"]) > 0 and p["pred_boxes"].dtype == torch.float32
        oh, ow = s["ori_shape"]
        boxes = p["pred_boxes"]
        assert (boxes >= 0).all() and (boxes[:, 2] <= ow).all() and (boxes[:, 3] <= oh).all()
        assert p["pred_labels"].min() >= 0 and p["pred_labels"].max() < 3
    assert preds[0]["pred_boxes"][:, 2].max() > 200  # mapped back to the 400 x 320 original
