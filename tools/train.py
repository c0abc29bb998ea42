"""Train a densenets model: ``python tools/train.py CONFIG [options]``.

Config.fromfile -> command-line overrides -> key checks (densenets/engine/cfg_check.py) -> the Runner
(densenets/engine/runner.py: checkpoints load only when they match). Multi-process:
``torchrun --nproc_per_node=N tools/train.py CONFIG --launcher pytorch`` (gloo on machines without CUDA).
A config with ``qat = dict(input_hw=(H, W))`` fine-tunes the float checkpoint ``--load-from`` with quantization-aware
training of the graph the ExecuTorch export lowers (``densenets/deploy/qat.py``; ``configs/demo/*_qat.py``).
An expected error (missing data or config, a checkpoint of another model, a misspelt key) is one message and exit
status 2; ``DENSENETS_DEBUG=1`` shows the traceback.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from mmengine.config import DictAction

import densenets.engine  # noqa: F401  (allow-lists checkpoint globals, registers hooks)
from densenets.engine import runner_cfg
from densenets.engine.cli import command


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train a densenets model")
    parser.add_argument("config", help="config file")
    parser.add_argument("--work-dir", help="directory for logs and checkpoints (default: work_dirs/<config name>)")
    parser.add_argument(
        "--resume", nargs="?", const="auto", default=None, metavar="CKPT",
        help="resume from CKPT, or without a value from the newest checkpoint in the work dir",
    )
    parser.add_argument("--load-from", metavar="CKPT", help="start from these weights (they must match the model)")
    parser.add_argument("--load-only", nargs="+", metavar="PREFIX",
                        help="partial load on purpose: only these parts of --load-from (e.g. backbone.)")
    parser.add_argument("--load-skip", nargs="+", metavar="PREFIX",
                        help="partial load on purpose: leave these parts at their initialisation (a head swap)")
    parser.add_argument("--amp", action="store_true", help="mixed precision (CUDA; float32 with a message on CPU)")
    parser.add_argument("--ema", action="store_true", help="keep an exponential moving average of the weights")
    parser.add_argument("--sync-bn", action="store_true", help="convert BatchNorm to SyncBatchNorm (distributed, CUDA)")
    parser.add_argument(
        "--cfg-options", nargs="+", action=DictAction, default={},
        help="override config keys, e.g. train_cfg.max_iters=1000 optim_wrapper.optimizer.lr=0.1",
    )
    parser.add_argument("--launcher", choices=["none", "pytorch"], default="none", help="job launcher")
    parser.add_argument("--local_rank", "--local-rank", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


@command
def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = runner_cfg.config_for_run(args.config, args.cfg_options, args.work_dir)
    runner_cfg.sync_by_epoch(cfg)
    runner_cfg.apply_launcher(cfg, args.launcher)
    if args.amp:
        runner_cfg.apply_amp(cfg)
    if args.ema:
        runner_cfg.apply_ema(cfg)
    if args.sync_bn:
        runner_cfg.apply_sync_bn(cfg)
    runner_cfg.apply_load_from(cfg, args.load_from, args.load_only, args.load_skip)
    runner_cfg.apply_resume(cfg, args.resume)
    if cfg.get("qat") is not None:  # quantization-aware training of the exported graph (densenets/deploy/qat.py)
        from densenets.deploy.qat import use_qat_model

        use_qat_model(cfg)
    runner_cfg.init_cpu_distributed(cfg)

    runner = runner_cfg.build_runner(cfg)
    runner.train()
    return 0


if __name__ == "__main__":
    sys.exit(main())
