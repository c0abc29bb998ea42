"""tools/train.py and tools/test.py end to end on the tiny real task of tests/engine (subprocesses, CPU)."""
from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "tests/engine/tiny_config.py"


def _run(args: list[str], tmp_path: Path, *extra_options: str, timeout: int = 240) -> str:
    path = os.pathsep.join([str(ROOT), str(ROOT / "tests/engine")])  # this checkout's densenets, not an installed one
    env = dict(os.environ, PYTHONPATH=path, OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    data = str(tmp_path / "data")
    options = [f"{k}.dataset.data_root={data}" for k in ("train_dataloader", "val_dataloader", "test_dataloader")]
    cmd = [*args, "--cfg-options", *options, *extra_options]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{out[-4000:]}"
    return out


def _metric(log: str, name: str) -> list[float]:
    return [float(v) for v in re.findall(rf"{re.escape(name)}: ([0-9.]+)", log)]


def test_train_resume_test_and_show(tmp_path):
    work = tmp_path / "work"
    log = _run([sys.executable, "tools/train.py", str(CONFIG), "--work-dir", str(work), "--amp", "--ema"], tmp_path)
    assert "CUDA is not available; mixed precision is CUDA-only here, training in float32" in log
    assert re.search(r"Iter\(train\) \[8/8\].*eta: ", log)  # progress and ETA, iteration-based logging
    assert (work / "last_checkpoint").read_text() == str(work / "iter_8.pth")
    assert list(work.glob("*/vis_data/events.out.tfevents.*")), "no TensorBoard event file"
    val_miou = _metric(log, "tiny/mIoU")
    assert len(val_miou) == 2

    show, out = tmp_path / "show", tmp_path / "preds.pkl"
    log = _run([sys.executable, "tools/test.py", str(CONFIG), str(work / "iter_8.pth"), "--work-dir", str(work),
                "--show-dir", str(show), "--out", str(out)], tmp_path)
    assert _metric(log, "tiny/mIoU") == [val_miou[-1]]  # the checkpoint (EMA weights) evaluates as in training
    assert len(list(show.glob("*.png"))) == 8
    with open(out, "rb") as f:
        preds = pickle.load(f)
    assert len(preds) == 8 and preds[0]["pred_sem_seg"].shape == (16, 16)

    # --resume (no value): continue from the newest checkpoint, here up to a longer schedule
    log = _run([sys.executable, "tools/train.py", str(CONFIG), "--work-dir", str(work), "--resume"], tmp_path,
               "train_cfg.max_iters=10", "train_cfg.val_interval=100")
    assert f"Load checkpoint from {work / 'iter_8.pth'}" in log and "resumed" in log.lower()
    assert re.findall(r"Iter\(train\) \[ *(\d+)/10\]", log) == ["9", "10"]  # iterations 1-8 are not re-trained
    assert (work / "last_checkpoint").read_text() == str(work / "iter_10.pth")

@pytest.mark.skipif(torch.cuda.is_available(), reason="CPU/gloo path; CUDA machines use nccl")
def test_torchrun_two_processes_on_cpu(tmp_path):
    work = tmp_path / "work"
    log = _run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                "tools/train.py", str(CONFIG), "--work-dir", str(work), "--launcher", "pytorch"], tmp_path)
    assert "Distributed launcher: pytorch" in log and "Distributed training: True" in log
    losses = [[json.loads(line) for line in (work / f"losses_rank{r}.jsonl").read_text().splitlines()] for r in (0, 1)]
    assert [it for it, _ in losses[0]] == [it for it, _ in losses[1]] == list(range(8))
    assert losses[0] != losses[1]  # each rank trains on its own shard
    names = sorted(p.name for p in work.glob("*.pth"))  # written by rank 0 only, newest kept (max_keep_ckpts=1)
    assert names in (["best_tiny_mIoU_iter_4.pth", "iter_8.pth"], ["best_tiny_mIoU_iter_8.pth", "iter_8.pth"])
    assert not list(work.glob("*.tmp")) and not list(work.glob(".*.tmp"))
    # 8 validation images, 4 per rank: the metric is computed on all of them once gathered
    assert _metric(log, "tiny/num_samples") and set(_metric(log, "tiny/num_samples")) == {8.0}
