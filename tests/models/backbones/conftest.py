"""Fixtures of the backbone tests: one CPU thread, a helper that saves a state_dict as a checkpoint file."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
import torch
from torch import nn


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture
def save_state(tmp_path: Path) -> Callable[[nn.Module, str], str]:
    """``save_state(module, name)`` writes ``module.state_dict()`` to ``tmp_path/name`` and returns the path."""

    def save(module: nn.Module, name: str = "weights.pth") -> str:
        path = tmp_path / name
        torch.save(module.state_dict(), path)
        return str(path)

    return save
