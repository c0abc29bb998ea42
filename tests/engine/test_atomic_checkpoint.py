"""A crash while a checkpoint is written leaves the previous checkpoint, the pointer and the directory intact."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

import densenets.engine.checkpoint as ckpt_mod
from densenets.engine import load_checkpoint
from densenets.engine.checkpoint import AtomicLocalBackend, atomic_write_bytes


class SimulatedCrash(Exception):
    pass


def test_atomic_write_replaces_or_keeps(tmp_path, monkeypatch):
    target = tmp_path / "file.bin"
    atomic_write_bytes(b"old contents", target)
    assert target.read_bytes() == b"old contents"
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # not mkstemp's private mode

    def crash_after_partial_write(fd):  # the data is in the temporary file, then the process "dies"
        raise SimulatedCrash

    monkeypatch.setattr(ckpt_mod.os, "fsync", crash_after_partial_write)
    with pytest.raises(SimulatedCrash):
        atomic_write_bytes(b"new contents that never fully land", target)
    assert target.read_bytes() == b"old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.bin"]


def test_backend_put_text_is_atomic(tmp_path):
    backend = AtomicLocalBackend()
    backend.put_text("first", tmp_path / "last_checkpoint")
    backend.put_text("second", tmp_path / "last_checkpoint")
    assert (tmp_path / "last_checkpoint").read_text() == "second"
    assert [p.name for p in tmp_path.iterdir()] == ["last_checkpoint"]


def test_crash_during_runner_save(tiny_cfg, build_runner, monkeypatch):
    """Train to the iteration-4 checkpoint, then crash inside torch.save of the iteration-8 checkpoint."""
    tiny_cfg.default_hooks.checkpoint.update(by_epoch=False, save_best=None, max_keep_ckpts=1)
    tiny_cfg.train_cfg.val_interval = 100
    runner = build_runner(tiny_cfg)
    work = Path(tiny_cfg.work_dir)
    real_save = torch.save

    def save_then_crash(obj, f, *args, **kwargs):
        if isinstance(obj, dict) and obj.get("meta", {}).get("iter") == 8:
            real_save({"partial": torch.zeros(1000)}, f)  # some bytes hit the buffer, then the crash
            raise SimulatedCrash("power cut while saving iter_8.pth")
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save_then_crash)
    with pytest.raises(SimulatedCrash):
        runner.train()
    assert sorted(p.name for p in work.glob("*.pth")) == ["iter_4.pth"]  # max_keep_ckpts=1 kept the old one
    assert not list(work.glob(".*tmp")) and not list(work.glob("*.tmp"))
    assert (work / "last_checkpoint").read_text() == str(work / "iter_4.pth")
    state = load_checkpoint(work / "iter_4.pth")
    assert state["meta"]["iter"] == 4

    # a crash in the file write itself (after part of the data is on disk) behaves the same
    monkeypatch.setattr(torch, "save", real_save)
    before = (work / "iter_4.pth").read_bytes()
    monkeypatch.setattr(ckpt_mod.os, "fsync", lambda fd: (_ for _ in ()).throw(SimulatedCrash("disk gone")))
    with pytest.raises(SimulatedCrash):
        runner.save_checkpoint(str(work), "iter_4.pth", backend_args=dict(backend="atomic_local"))
    assert (work / "iter_4.pth").read_bytes() == before
    assert not [n for n in os.listdir(work) if n.endswith(".tmp")]


def test_old_checkpoints_removed_only_after_the_new_one_exists(tiny_cfg, build_runner):
    tiny_cfg.default_hooks.checkpoint.update(by_epoch=False, interval=2, max_keep_ckpts=2)
    build_runner(tiny_cfg).train()
    work = Path(tiny_cfg.work_dir)
    names = sorted(p.name for p in work.glob("*.pth"))
    best = [n for n in names if n.startswith("best_")]
    assert [n for n in names if n.startswith("iter_")] == ["iter_6.pth", "iter_8.pth"]
    assert len(best) == 1  # the previous best file was removed after the new one was written
    assert (work / "last_checkpoint").read_text() == str(work / "iter_8.pth")
