"""Fixtures for the engine tests: the tiny real segmentation task of ``engine_tiny_task.py`` and its config."""
from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import engine_tiny_task  # noqa: E402,F401  (registers the tiny model, dataset, metric and hooks)
from mmengine.config import Config  # noqa: E402

import densenets.engine  # noqa: E402,F401
from densenets.engine.runner_cfg import sync_by_epoch  # noqa: E402

TINY_CONFIG = HERE / "tiny_config.py"
_names = itertools.count()


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def tiny_cfg(tmp_path: Path) -> Config:
    """The tiny config with data in ``tmp_path/data``, work dir ``tmp_path/work`` and unique instance names."""
    cfg = Config.fromfile(str(TINY_CONFIG))
    data_root = str(tmp_path / "data")
    for loader in ("train_dataloader", "val_dataloader", "test_dataloader"):
        cfg[loader]["dataset"]["data_root"] = data_root
    cfg.work_dir = str(tmp_path / "work")
    cfg.launcher = "none"
    sync_by_epoch(cfg)  # as tools/train.py does: the tiny schedule is iteration-based
    return cfg


@pytest.fixture
def build_runner():
    """``build_runner(cfg) -> Runner`` with fresh MessageHub/Visualizer instances (mmengine keeps them by name)."""
    from mmengine.runner import Runner

    def build(cfg: Config) -> Runner:
        cfg = cfg.copy()
        n = f"engine_test_{os.getpid()}_{next(_names)}"
        cfg.experiment_name = n
        cfg.visualizer["name"] = n
        return Runner.from_cfg(cfg)

    return build
