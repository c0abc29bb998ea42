"""Speed of densenets against its peers, measured in one run: one CLI, one mode per kind of measurement.

    python tools/analysis/benchmark.py CONFIG [--checkpoint CKPT] [--shape H W] [--threads N] [--batch B]
        [--device cpu|cuda] [--amp] [--fused] [--runs 50] [--warmup 10] [--compare-torchvision] [--onnxruntime]
        [--backend eager fused onnxruntime executorch executorch_int8] [--json]  # --mode latency (default)
    python tools/analysis/benchmark.py configs/ssdlite_mbv3_large.py --mode train --threads 2 --batch 8
    python tools/analysis/benchmark.py CONFIG --mode variants [--sizes 1024x2048 512x1024]
    python tools/analysis/benchmark.py --mode data [--data data/demo_coco] [--num-images 100] [--runs 3]
    python tools/analysis/benchmark.py --mode eval-cityscapes [--num-images 20] [--workers 1 2] [--runs 2]
    python tools/analysis/benchmark.py --mode eval-coco [--num-images 500] [--runs 2]

Modes (the library function that measures and documents each):

* ``latency``  model only and end to end, optionally vs torchvision and onnxruntime, and with ``--backend`` the
  exported runtimes (eager, BN folded + channels-last, onnxruntime, ExecuTorch fp32 / int8) in the same interleaved
  run (``densenets.analysis.latency``, ``densenets.analysis.backends``);
* ``train``    an SSDLite training step vs torchvision's (``densenets.analysis.train_step``);
* ``variants`` like-for-like torchvision variants: SSDLite in TF's and torchvision's form, Faster R-CNN FPN with
  shared weights, LR-ASPP with torchvision's tail (``densenets.analysis.variants``);
* ``data``     images/s of the SSD training pipeline vs torchvision's reference transforms
  (``densenets.analysis.data_pipeline``; default CONFIG: configs/_base_/datasets/coco_ssdlite_320.py);
* ``eval-cityscapes`` / ``eval-coco``  evaluator speed on the same inputs, figures asserted equal: ours vs the
  official cityscapesscripts, pycocotools vs faster-coco-eval (``densenets.analysis.eval_speed``).

Every mode times with ``densenets.analysis.timing`` (candidates interleaved) and builds torchvision's models in
``densenets.analysis.peers``; ratios are ours / peer unless the line says otherwise. ``--json`` ends the output
with one JSON object. ``--runs`` / ``--warmup`` default per mode (shown by ``--help``).
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable

import torch
from mmengine.config import DictAction

from densenets.analysis.backends import BACKEND_CHOICES
from densenets.engine.cli import command

# mode -> (default runs, default warmup)
DEFAULTS = {"latency": (50, 10), "train": (25, 5), "variants": (20, 3), "data": (3, 0), "eval-cityscapes": (2, 0),
            "eval-coco": (2, 0)}
NEEDS_CONFIG = ("latency", "train", "variants")
DATA_CONFIG = "configs/_base_/datasets/coco_ssdlite_320.py"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("config", nargs="?")
    p.add_argument("--mode", default="latency", choices=tuple(DEFAULTS))
    p.add_argument("--threads", type=int, default=1, help="CPU threads (torch and onnxruntime)")
    p.add_argument("--runs", type=int, help="timed runs / rounds (default per mode: "
                   + ", ".join(f"{k} {v[0]}" for k, v in DEFAULTS.items()) + ")")
    p.add_argument("--warmup", type=int, help="untimed runs first (default per mode: "
                   + ", ".join(f"{k} {v[1]}" for k, v in DEFAULTS.items()) + ")")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    lat = p.add_argument_group("latency / train / variants")
    lat.add_argument("--checkpoint", default=None)
    lat.add_argument("--shape", type=int, nargs=2, metavar=("H", "W"), help="image size after the test pipeline")
    lat.add_argument("--batch", type=int, help="images per call (default: 1; --mode train: 8)")
    lat.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    lat.add_argument("--amp", action="store_true", help="fp16 autocast (CUDA only)")
    lat.add_argument("--fused", action="store_true", help="BN folded into the convs + channels-last")
    lat.add_argument("--compare-torchvision", action="store_true")
    lat.add_argument("--onnxruntime", action="store_true")
    lat.add_argument("--backend", nargs="+", default=[], choices=BACKEND_CHOICES,
                     help="also time these runtimes in the same interleaved run (densenets/analysis/backends.py)")
    lat.add_argument("--export-dir", default="work_dirs/benchmark_exports", help="where --backend writes its programs")
    lat.add_argument("--sizes", nargs="+", metavar="HxW", help="--mode variants, LR-ASPP: input sizes")
    other = p.add_argument_group("data / eval-cityscapes / eval-coco")
    other.add_argument("--data", default="data/demo_coco",
                       help="--mode data: a COCO-format folder (the demo set is generated if absent)")
    other.add_argument("--num-images", type=int, help="images per round (data 100, eval-cityscapes 20, eval-coco 500)")
    other.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="--mode eval-cityscapes: ours' workers")
    other.add_argument("--few-instances", action="store_true", help="eval-cityscapes: the demo's sparse scenes")
    other.add_argument("--full-res-scenes", action="store_true", help="eval-cityscapes: draw scenes at 1024x2048")
    args = p.parse_args(argv)
    runs, warmup = DEFAULTS[args.mode]
    args.runs = runs if args.runs is None else args.runs
    args.warmup = warmup if args.warmup is None else args.warmup
    args.batch = args.batch or (8 if args.mode == "train" else 1)
    if args.mode in NEEDS_CONFIG and not args.config:
        p.error(f"--mode {args.mode} needs a CONFIG")
    if args.amp and args.device != "cuda":
        p.error("--amp needs --device cuda (fp16 autocast is a GPU setting)")
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: no CUDA device is available")
    if args.onnxruntime and args.device != "cpu":
        p.error("--onnxruntime times the CPU provider; use --device cpu")
    if args.runs < 1 or args.warmup < 0 or args.batch < 1 or args.threads < 1 or (args.num_images or 1) < 1:
        p.error("--runs, --batch, --threads and --num-images must be >= 1 and --warmup >= 0")
    return args


def _sizes(args: argparse.Namespace) -> list[tuple[int, int]] | None:
    if args.sizes:
        return [tuple(int(v) for v in s.lower().split("x")) for s in args.sizes]
    return [tuple(args.shape)] if args.shape else None


def _latency(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from densenets.analysis.latency import format_latency, run_latency

    r = run_latency(args)
    return r, format_latency(r)


def _train(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from densenets.analysis.train_step import format_train_step, train_step_benchmark
    from densenets.apis import load_config

    r = train_step_benchmark(load_config(args.config, args.cfg_options), args.runs, args.warmup, args.batch)
    return r, f"training step, CPU, {args.threads} thread(s), median of {args.runs}\n" + format_train_step(r)


def _variants(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from densenets.analysis.variants import format_variants, run_variants
    from densenets.apis import load_config

    r = run_variants(load_config(args.config, args.cfg_options), args.runs, args.warmup, _sizes(args))
    return r, f"CPU, {args.threads} thread(s), medians of {args.runs} after {args.warmup} warm-up\n" + \
        format_variants(r)


def _data(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    import cv2

    from densenets.analysis.data_pipeline import data_pipeline_benchmark, format_data_pipeline
    from densenets.apis import load_config

    cv2.setNumThreads(1)
    cfg = load_config(args.config or DATA_CONFIG, args.cfg_options)
    r = data_pipeline_benchmark(cfg, args.data, args.num_images or 100, args.runs)
    return r, format_data_pipeline(r)


def _eval_cityscapes(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    import cv2

    from densenets.analysis.eval_speed import cityscapes_eval_benchmark, format_cityscapes_eval

    cv2.setNumThreads(1)
    r = cityscapes_eval_benchmark(args.num_images or 20, args.workers, args.runs, crowd=not args.few_instances,
                                  full_res=args.full_res_scenes)
    return r, format_cityscapes_eval(r)


def _eval_coco(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from densenets.analysis.eval_speed import coco_eval_benchmark, format_coco_eval

    r = coco_eval_benchmark(args.num_images or 500, args.runs)
    return r, format_coco_eval(r)


MODES: dict[str, Callable[[argparse.Namespace], tuple[dict[str, Any], str]]] = {
    "latency": _latency, "train": _train, "variants": _variants, "data": _data,
    "eval-cityscapes": _eval_cityscapes, "eval-coco": _eval_coco,
}


@command
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    result, text = MODES[args.mode](args)
    print(text)
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
