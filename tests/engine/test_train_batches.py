"""Training loaders never produce a batch of one (BatchNorm cannot train on it), for every config.

Each config's ``train_dataloader`` is built as the Runner builds it, over a dataset whose size leaves remainder 1
for the config's batch size, and iterated as its train loop iterates it: iteration-based loops through mmengine's
``_InfiniteDataloaderIterator`` across three passes (InfiniteSampler: no epoch end, hence no "Reach the end of the
dataloader" warning), epoch-based loops for two epochs (drop_last=True).
"""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.runner import Runner
from mmengine.runner.loops import _InfiniteDataloaderIterator
from torch.utils.data import Dataset

from densenets.engine.runner_cfg import train_by_epoch

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "configs").rglob("*.py") if "_base_" not in p.parts)


class _Items(Dataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        return dict(inputs=i, data_samples=dict(idx=i))


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def batch_sizes(loader_cfg: dict, by_epoch: bool, n: int) -> tuple[list[int], list[str]]:
    loader_cfg = dict(loader_cfg, dataset=_Items(n), num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    capture = _Capture()
    logger = MMLogger.get_current_instance()
    logger.addHandler(capture)
    try:
        if by_epoch:
            sizes = [len(b["inputs"]) for _ in range(2) for b in loader]
        else:
            it = _InfiniteDataloaderIterator(loader)
            sizes = [len(next(it)["inputs"]) for _ in range(3 * (n // loader_cfg["batch_size"] + 1))]
    finally:
        logger.removeHandler(capture)
    return sizes, capture.messages


@pytest.mark.parametrize("config", CONFIGS)
def test_no_batch_of_one_in_training(config: str) -> None:
    cfg = Config.fromfile(str(ROOT / config))
    loader = cfg.train_dataloader.to_dict()
    bs = loader["batch_size"]
    n = 2 * bs + 1  # remainder 1
    sizes, messages = batch_sizes(loader, train_by_epoch(cfg), n)
    assert sizes and set(sizes) == {bs}, f"{config}: batch sizes {sorted(set(sizes))}"
    assert not [m for m in messages if "Reach the end of the dataloader" in m]


def test_the_check_fails_on_a_plain_finite_loader() -> None:
    """The old form (DefaultSampler without drop_last) gives the batch of one in both loop kinds."""
    loader = dict(batch_size=4, sampler=dict(type="DefaultSampler", shuffle=True),
                  collate_fn=dict(type="dense_list_collate"))
    sizes, _ = batch_sizes(loader, True, 9)
    assert 1 in sizes
    sizes, messages = batch_sizes(loader, False, 9)
    assert 1 in sizes and any("Reach the end of the dataloader" in m for m in messages)
