"""Every Cityscapes segmentation config (MobileNetV3 Tables 7 and 8) builds and trains one step on a tiny batch."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper

from densenets.models.segmentors import EncoderDecoder
from densenets.registry import MODELS

ROOT = Path(__file__).resolve().parents[3]
CONFIGS = sorted(p.name for p in (ROOT / "configs").glob("*cityscapes*.py"))
DEMO = "demo/lraspp_mbv3_large_demo.py"


def build_model(name: str) -> EncoderDecoder:
    cfg = Config.fromfile(str(ROOT / "configs" / name))
    assert cfg.default_scope == "densenets"
    return MODELS.build(cfg.model)


def test_every_table_row_has_a_config() -> None:
    assert len(CONFIGS) == 13, CONFIGS  # Table 7 rows 1-11 + the two OS-32 rows of Table 8


@pytest.mark.parametrize("name", CONFIGS + [DEMO])
def test_config_trains_one_step_and_predicts(name: str, seg_batch) -> None:
    torch.manual_seed(0)
    model = build_model(name)
    assert isinstance(model, EncoderDecoder)
    batch = seg_batch(n=2, h=97, w=129, num_classes=19)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))
    before = {k: v.clone() for k, v in model.decode_head.state_dict().items()}
    model.train()
    losses = model.train_step(batch, optim)
    loss = losses["loss"].detach()
    assert torch.isfinite(loss) and float(loss) > 0
    changed = [k for k, v in model.decode_head.state_dict().items() if not torch.equal(v, before[k])]
    assert any(k.endswith("weight") for k in changed)
    model.eval()
    with torch.no_grad():
        logits = model(torch.zeros(1, 3, 97, 129), mode="tensor")
    assert logits.shape == (1, 19, 97, 129)
    preds = model.test_step(seg_batch(n=2, h=97, w=129, num_classes=19, seed=1))
    assert [tuple(p["pred_sem_seg"].shape) for p in preds] == [(97, 129), (94, 124)]
    assert all(int(p["pred_sem_seg"].max()) < 19 for p in preds)


def test_demo_config_is_the_row_8_network_with_a_crop_sized_gate() -> None:
    demo, row8 = build_model(DEMO), build_model("lraspp_mbv3_large_cityscapes.py")
    assert sum(p.numel() for p in demo.parameters()) == sum(p.numel() for p in row8.parameters())
    cfg = Config.fromfile(str(ROOT / "configs" / DEMO))
    crop = next(t["crop_size"] for t in cfg.train_pipeline if t["type"] == "SegRandomCrop")
    assert demo.decode_head.pool_kernel == ((crop[0] - 1) // 16 + 1, (crop[1] - 1) // 16 + 1)  # TF: crop / OS
    assert cfg.val_evaluator["type"] == "CityscapesMetric"
