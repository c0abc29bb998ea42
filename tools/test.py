"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [options]``.

An exported program: ``python tools/test.py CONFIG --backend executorch|onnxruntime --model model.pte|model.onnx``
(same test loop, post-processing and metrics; ``densenets.deploy.runtimes.ExportedModel``). A checkpoint of
quantization-aware training (``configs/demo/*_qat.py``) evaluates its fake-quantized graph.

Uses the config's ``test_dataloader`` / ``test_evaluator``. ``--show-dir`` draws the predictions on the images,
``--out`` dumps the raw predictions (pickle), ``--format-only --out-dir`` writes server-format results without scoring.
The checkpoint must match the model the config builds (densenets/engine/runner.py); an expected error is one
message and exit status 2 (``DENSENETS_DEBUG=1`` shows the traceback).
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys
from typing import Sequence

from mmengine.config import DictAction
from mmengine.evaluator import DumpResults

import densenets.engine  # noqa: F401  (allow-lists checkpoint globals, registers hooks)
from densenets.engine import runner_cfg
from densenets.engine.cli import command


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Evaluate a densenets checkpoint")
    parser.add_argument("config", help="config file")
    parser.add_argument("checkpoint", nargs="?", help="checkpoint file (not with --backend executorch|onnxruntime)")
    parser.add_argument("--backend", choices=["torch", "onnxruntime", "executorch"], default="torch",
                        help="run the network with this runtime (an exported --model) instead of PyTorch")
    parser.add_argument("--model", help="the exported program (.pte / .onnx) for --backend")
    parser.add_argument("--threads", type=int, default=1, help="runtime threads for --backend")
    parser.add_argument("--work-dir", help="directory for logs and metrics (default: work_dirs/<config name>)")
    parser.add_argument("--show-dir", help="write every image with its predictions drawn to this directory")
    parser.add_argument("--score-thr", type=float, default=0.3, help="lowest detection score drawn by --show-dir")
    parser.add_argument("--out", help="dump the predictions to this .pkl file")
    parser.add_argument("--format-only", action="store_true", help="write results for a server; no scores")
    parser.add_argument("--out-dir", help="where --format-only writes its results")
    parser.add_argument(
        "--cfg-options", nargs="+", action=DictAction, default={}, help="override config keys (key=value)"
    )
    parser.add_argument("--launcher", choices=["none", "pytorch"], default="none", help="job launcher")
    parser.add_argument("--local_rank", "--local-rank", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.format_only and not args.out_dir:
        parser.error("--format-only needs --out-dir DIR")
    if args.out is not None and not args.out.endswith((".pkl", ".pickle")):
        parser.error(f"--out {args.out}: the file must end in .pkl or .pickle")
    if args.backend != "torch":
        if not args.model:
            parser.error(f"--backend {args.backend} needs --model FILE (the exported program)")
        if not osp.isfile(args.model):
            parser.error(f"--model {args.model}: no such file (the exported program for --backend {args.backend})")
        if args.checkpoint:
            parser.error("--backend: the exported --model holds the weights; drop the checkpoint argument")
    elif args.checkpoint is None:
        parser.error("the checkpoint argument is required (or evaluate an exported program: --backend --model)")
    elif not osp.isfile(args.checkpoint):
        parser.error(f"checkpoint {args.checkpoint}: no such file")
    return args


@command
def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = runner_cfg.config_for_run(args.config, args.cfg_options, args.work_dir, train=False)
    runner_cfg.apply_launcher(cfg, args.launcher)
    cfg.load_from = args.checkpoint  # None with --backend: the exported program holds the weights
    if args.backend == "torch":  # a QAT checkpoint (densenets/deploy/qat.py): its fake-quantized graph
        from densenets.deploy.qat import use_qat_for_test

        use_qat_for_test(cfg, args.checkpoint)
    if args.backend != "torch":
        from densenets.deploy.runtimes import use_exported_model

        use_exported_model(cfg, args.backend, args.model, args.threads)
    cfg.resume = False
    if args.show_dir:
        cfg.setdefault("default_hooks", {})["visualization"] = dict(
            type="DenseVisualizationHook", draw=True, show_dir=osp.abspath(args.show_dir), score_thr=args.score_thr
        )
    if args.format_only:
        runner_cfg.apply_format_only(cfg, osp.abspath(args.out_dir))
    runner_cfg.init_cpu_distributed(cfg)

    runner = runner_cfg.build_runner(cfg)
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
    runner.test()
    return 0


if __name__ == "__main__":
    sys.exit(main())
