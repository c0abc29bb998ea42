"""Train a densenets model: ``python tools/train.py CONFIG [options]``.

Config.fromfile -> command-line overrides -> ``Runner.from_cfg(cfg).train()``. Multi-process:
``torchrun --nproc_per_node=N tools/train.py CONFIG --launcher pytorch`` (gloo on machines without CUDA).
"""
from __future__ import annotations

import argparse

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import densenets.engine  # noqa: F401  (allow-lists checkpoint globals, registers hooks)
from densenets.engine import runner_cfg


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train a densenets model")
    parser.add_argument("config", help="config file")
    parser.add_argument("--work-dir", help="directory for logs and checkpoints (default: work_dirs/<config name>)")
    parser.add_argument(
        "--resume", nargs="?", const="auto", default=None, metavar="CKPT",
        help="resume from CKPT, or without a value from the newest checkpoint in the work dir",
    )
    parser.add_argument("--amp", action="store_true", help="mixed precision (CUDA; float32 with a message on CPU)")
    parser.add_argument("--ema", action="store_true", help="keep an exponential moving average of the weights")
    parser.add_argument("--sync-bn", action="store_true", help="convert BatchNorm to SyncBatchNorm (distributed, CUDA)")
    parser.add_argument(
        "--cfg-options", nargs="+", action=DictAction, default={},
        help="override config keys, e.g. train_cfg.max_iters=1000 optim_wrapper.optimizer.lr=0.1",
    )
    parser.add_argument("--launcher", choices=["none", "pytorch"], default="none", help="job launcher")
    parser.add_argument("--local_rank", "--local-rank", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    runner_cfg.set_work_dir(cfg, args.work_dir, args.config)
    runner_cfg.sync_by_epoch(cfg)
    runner_cfg.apply_launcher(cfg, args.launcher)
    if args.amp:
        runner_cfg.apply_amp(cfg)
    if args.ema:
        runner_cfg.apply_ema(cfg)
    if args.sync_bn:
        runner_cfg.apply_sync_bn(cfg)
    runner_cfg.apply_resume(cfg, args.resume)
    runner_cfg.init_cpu_distributed(cfg)

    runner = Runner.from_cfg(cfg) if "runner_type" not in cfg else RUNNERS.build(cfg)
    runner.train()


if __name__ == "__main__":
    main()
