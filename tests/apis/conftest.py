"""Checkpoints saved from one config, for loading into the same or another config."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from densenets.apis import build_model, load_config

ROOT = Path(__file__).resolve().parents[2]
SSD_SMALL = str(ROOT / "configs" / "ssdlite_mbv3_small.py")
SSD_LARGE = str(ROOT / "configs" / "ssdlite_mbv3_large.py")


@pytest.fixture(scope="session")
def small_checkpoint(tmp_path_factory) -> tuple[str, dict[str, torch.Tensor]]:
    """An mmengine-style checkpoint of the SSDLite-MobileNetV3-Small config, with class names in its meta."""
    torch.manual_seed(0)
    model = build_model(load_config(SSD_SMALL))
    state = model.state_dict()
    path = tmp_path_factory.mktemp("ckpt") / "ssdlite_mbv3_small.pth"
    classes = tuple(f"thing{i}" for i in range(80))
    torch.save({"state_dict": state, "meta": {"dataset_meta": {"classes": classes}}}, path)
    return str(path), state
