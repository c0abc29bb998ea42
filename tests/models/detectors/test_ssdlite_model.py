"""SSDLite end to end: every config builds and trains a step, predictions map back to the original pixels,
bad ground truth is a clear error, the inference optimisation keeps the outputs."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from densenets.models import SSDLite
from densenets.registry import MODELS

ROOT = Path(__file__).resolve().parents[3]
CONFIGS = sorted(ROOT.glob("configs/ssdlite_*.py")) + [ROOT / "configs/demo/ssdlite_mbv3_large_demo.py"]
SIZE = 128  # small but valid: the six maps are 8, 4, 2, 1, 1, 1


def _batch(model: SSDLite, n: int = 2, size: int = SIZE, train: bool = True) -> dict:
    g = torch.Generator().manual_seed(0)
    images = [torch.randint(0, 256, (3, size, size), dtype=torch.uint8, generator=g) for _ in range(n)]
    samples = [
        dict(img_path=f"img{i}.jpg", img_shape=(size, size), ori_shape=(size, size), scale_factor=(1.0, 1.0),
             gt_boxes=torch.tensor([[4.0, 8.0, 60.0, 90.0], [70.0, 20.0, 120.0, 50.0]]), gt_labels=torch.tensor([0, i]))
        for i in range(n)
    ]
    return model.data_preprocessor({"inputs": images, "data_samples": samples}, train)


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_builds_and_trains_a_step(path: Path):
    torch.manual_seed(0)
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == "densenets"
    model = MODELS.build(cfg.model)
    model.train()
    data = _batch(model)
    losses = model(**data, mode="loss")
    assert set(losses) == {"loss_cls", "loss_bbox"} and all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert model.head.cls_preds[0][-1].weight.grad.abs().sum() > 0
    first_conv = next(p for p in model.backbone.parameters() if p.dim() == 4)
    assert first_conv.grad is not None and first_conv.grad.abs().sum() > 0
    cls, box = model(data["inputs"], mode="tensor")
    feats = model.extract_feat(data["inputs"])
    num_anchors = sum(f.shape[-2] * f.shape[-1] * a for f, a in zip(feats.values(), model.anchor_generator.num_anchors_per_location()))
    assert cls.shape == (2, num_anchors, cfg.model.num_classes) and box.shape == (2, num_anchors, 4)


@pytest.fixture(scope="module")
def small_model() -> SSDLite:
    torch.manual_seed(0)
    return SSDLite(backbone=dict(name="mobilenet_v3_small", reduced_tail="detection"), num_classes=3).eval()


def test_predictions_are_mapped_to_original_pixels(small_model: SSDLite):
    image = torch.randint(0, 256, (3, SIZE, SIZE), dtype=torch.uint8)
    same = dict(img_id=1, img_shape=(SIZE, SIZE), ori_shape=(SIZE, SIZE), scale_factor=(1.0, 1.0))
    resized = dict(img_id=2, img_shape=(SIZE, SIZE), ori_shape=(256, 512), scale_factor=(SIZE / 512, SIZE / 256))
    data = small_model.data_preprocessor({"inputs": [image, image], "data_samples": [same, resized]}, False)
    with torch.no_grad():
        a, b = small_model(**data, mode="predict")
    assert a["img_id"] == 1 and b["img_id"] == 2
    assert 0 < a["pred_boxes"].shape[0] <= 100 and a["pred_boxes"].dtype == torch.float32
    assert a["pred_labels"].dtype == torch.int64 and int(a["pred_labels"].max()) < 3
    assert torch.all(a["pred_scores"][:-1] >= a["pred_scores"][1:])
    assert torch.allclose(b["pred_boxes"], a["pred_boxes"] * torch.tensor([4.0, 2.0, 4.0, 2.0]), atol=1e-3)
    assert (b["pred_boxes"][:, 2] <= 512).all() and (b["pred_boxes"][:, 3] <= 256).all()
    assert torch.equal(a["pred_scores"], b["pred_scores"])


def test_bad_ground_truth_names_the_file(small_model: SSDLite):
    data = _batch(small_model)
    data["data_samples"][1]["gt_boxes"] = torch.tensor([[10.0, 10.0, 5.0, 40.0], [1.0, 1.0, 9.0, 9.0]])
    with pytest.raises(ValueError, match="img1.jpg: degenerate gt box"):
        small_model(**data, mode="loss")
    data = _batch(small_model)
    data["data_samples"][0]["gt_labels"] = torch.tensor([0, 3])
    with pytest.raises(ValueError, match=r"img0.jpg: gt label 3 outside 0..2"):
        small_model(**data, mode="loss")
    with pytest.raises(ValueError, match="unknown mode"):
        small_model(data["inputs"], mode="features")


def test_image_without_objects_trains(small_model: SSDLite):
    model = copy.deepcopy(small_model).train()
    data = _batch(model)
    data["data_samples"][0]["gt_boxes"] = torch.zeros(0, 4)
    data["data_samples"][0]["gt_labels"] = torch.zeros(0, dtype=torch.int64)
    losses = model(**data, mode="loss")
    assert all(torch.isfinite(v) for v in losses.values())


def test_optimize_for_inference_keeps_predictions(small_model: SSDLite):
    model = copy.deepcopy(small_model)
    for m in model.modules():  # non-trivial BN statistics, so folding is really exercised
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    ref = copy.deepcopy(model).eval()
    model.optimize_for_inference()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    data = _batch(ref, train=False)
    with torch.no_grad():
        expected = ref(data["inputs"], mode="tensor")
        got = model(data["inputs"].contiguous(memory_format=torch.channels_last), mode="tensor")
    assert torch.allclose(got[0], expected[0], atol=1e-4) and torch.allclose(got[1], expected[1], atol=1e-4)
    with pytest.raises(RuntimeError, match="optimised for inference"):
        model(**_batch(model), mode="loss")


def test_backbone_weights_survive_init(tmp_path: Path):
    """``backbone=dict(weights=...)`` (a torchvision checkpoint) is kept; only the neck and head are initialised."""
    from torchvision.models import mobilenet_v3_small

    torch.manual_seed(0)
    path = tmp_path / "mbv3_small.pth"
    reference = mobilenet_v3_small()
    torch.save(reference.state_dict(), path)
    model = SSDLite(backbone=dict(name="mobilenet_v3_small", weights=str(path)), num_classes=3)
    model.init_weights()  # the Runner calls it again before training
    ours = {tuple(p.shape): p for p in model.backbone.parameters() if p.dim() == 4}
    stem = reference.features[0][0].weight
    assert torch.equal(ours[tuple(stem.shape)], stem)
    head_conv = model.head.cls_preds[0][-1]
    assert torch.all(head_conv.bias == -4.6) and 0.02 < float(head_conv.weight.detach().std()) < 0.04  # N(0, 0.03) init
