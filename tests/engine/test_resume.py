"""Resuming an interrupted run reproduces the uninterrupted one exactly (losses, EMA, best-metric record)."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from densenets.engine import load_checkpoint
from densenets.engine.runner_cfg import apply_ema


def _losses(work_dir: str) -> dict[int, float]:
    lines = (Path(work_dir) / "losses_rank0.jsonl").read_text().splitlines()
    return {it: loss for it, loss in (json.loads(line) for line in lines)}


def test_resume_gives_the_same_losses(tiny_cfg, build_runner, tmp_path):
    tiny_cfg.ema_cfg = dict(ema_type="ExponentialMovingAverage", momentum=0.2)  # moves within 8 iterations
    apply_ema(tiny_cfg)
    ref_cfg = tiny_cfg.copy()
    ref_cfg.work_dir = str(tmp_path / "ref")
    build_runner(ref_cfg).train()
    ref = _losses(ref_cfg.work_dir)
    assert sorted(ref) == list(range(8))

    crash_cfg = tiny_cfg.copy()
    crash_cfg.work_dir = str(tmp_path / "crashed")
    crash_cfg.custom_hooks = [*crash_cfg.custom_hooks, dict(type="EngineCrashAt", at=6)]
    try:
        build_runner(crash_cfg).train()
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the simulated crash did not happen")
    work = Path(crash_cfg.work_dir)
    assert (work / "last_checkpoint").read_text().endswith("iter_4.pth")
    first = _losses(crash_cfg.work_dir)
    (work / "losses_rank0.jsonl").unlink()

    resume_cfg = tiny_cfg.copy()
    resume_cfg.work_dir = crash_cfg.work_dir
    resume_cfg.resume = True  # what `tools/train.py --resume` sets: the newest checkpoint of the work dir
    runner = build_runner(resume_cfg)
    runner.train()
    resumed = _losses(resume_cfg.work_dir)

    assert sorted(resumed) == [4, 5, 6, 7]
    for it in range(4):
        assert first[it] == ref[it]
    for it in range(4, 8):
        assert resumed[it] == ref[it], (it, resumed[it], ref[it])

    # final weights, EMA weights and the best-metric record match the uninterrupted run
    a = load_checkpoint(Path(ref_cfg.work_dir) / "iter_8.pth")
    b = load_checkpoint(work / "iter_8.pth")
    for key in ("state_dict", "ema_state_dict"):
        assert a[key].keys() == b[key].keys()
        for name in a[key]:
            torch.testing.assert_close(a[key][name], b[key][name], rtol=0, atol=0, msg=f"{key}.{name}")
    info_a, info_b = a["message_hub"]["runtime_info"], b["message_hub"]["runtime_info"]
    assert info_b["best_score"] == info_a["best_score"]
    assert Path(info_b["best_ckpt"]).name == Path(info_a["best_ckpt"]).name
    assert Path(info_b["best_ckpt"]).is_file()
    assert runner.message_hub.get_info("best_score") == info_a["best_score"]
    # param-scheduler state (cosine after warm-up) resumed: the same learning rate at the end
    assert b["optimizer"]["param_groups"][0]["lr"] == a["optimizer"]["param_groups"][0]["lr"]
