"""Inference latency of a config's model: model only and end to end, optionally against torchvision and onnxruntime.

    python tools/analysis/benchmark.py CONFIG [--checkpoint CKPT] [--shape H W] [--threads N] [--batch B]
        [--device cpu|cuda] [--amp] [--fused] [--runs 50] [--warmup 10] [--compare-torchvision] [--onnxruntime]
        [--backend eager fused onnxruntime executorch executorch_int8] [--json]

* model only: ``model(x, mode="tensor")`` on a normalised, padded float batch (network only);
* end to end: ``data_preprocessor`` (uint8 -> float, normalise, pad) + ``mode="predict"`` (network + decoding, NMS
  and boxes in original pixels, or logits resized to the image and argmax). The host-side pipeline resize is not
  included: the random uint8 image already has the size the test pipeline produces (``--shape``, default: the
  config's test resize of a typical dataset image, see ``densenets/analysis/bench_inputs.py``).

Figures are median (p25-p75) in milliseconds over ``--runs`` timed runs after ``--warmup`` untimed ones
(``densenets.analysis.timing``); the candidates (ours and torchvision's, model only and end to end) are called
round-robin so that load changes on a shared machine affect them alike. ``--fused`` folds BN into the
convolutions and uses channels-last; ``--device cuda`` always uses channels-last, ``--amp`` adds fp16 autocast. ``--compare-torchvision`` times
torchvision's counterpart (``densenets/analysis/peers.py`` documents what each of its figures includes) in the same
run and prints ours / torchvision ratios (< 1: ours is faster). ``--onnxruntime`` exports the model (BN folded,
normalisation inside) to a temporary file and times onnxruntime's CPU provider with ``--threads`` threads.
``--backend`` adds runtimes to the same interleaved run (``densenets/deploy/latency.py`` says what each figure
includes; the programs are written to ``--export-dir`` and their sizes printed), with ratios against torchvision's
eager model when ``--compare-torchvision`` is given. Weights are random unless ``--checkpoint`` is given; latency does not depend on them except for end-to-end
post-processing (how many boxes survive the score threshold).
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import sys
import tempfile
from typing import Any

import torch
from mmengine.config import DictAction

from densenets.analysis.bench_inputs import eval_image_shape, model_runners, padded_shape, task_of
from densenets.analysis.peers import PeerRunner, find_peer
from densenets.analysis.timing import Timing, time_fn, time_interleaved
from densenets.apis import build_model, load_config, load_model_weights
from densenets.deploy.latency import BACKEND_CHOICES, backend_candidate
from densenets.models.fuse import optimize_for_inference


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("config")
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--shape", type=int, nargs=2, metavar=("H", "W"), help="image size after the test pipeline")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (torch and onnxruntime)")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--amp", action="store_true", help="fp16 autocast (CUDA only)")
    p.add_argument("--fused", action="store_true", help="BN folded into the convs + channels-last")
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--compare-torchvision", action="store_true")
    p.add_argument("--onnxruntime", action="store_true")
    p.add_argument("--backend", nargs="+", default=[], choices=BACKEND_CHOICES,
                   help="also time these runtimes in the same interleaved run (densenets/deploy/latency.py)")
    p.add_argument("--export-dir", default="work_dirs/benchmark_exports", help="where --backend writes its programs")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    args = p.parse_args(argv)
    if args.amp and args.device != "cuda":
        p.error("--amp needs --device cuda (fp16 autocast is a GPU setting)")
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: no CUDA device is available")
    if args.onnxruntime and args.device != "cpu":
        p.error("--onnxruntime times the CPU provider; use --device cpu")
    if args.backend and args.device != "cpu":
        p.error("--backend times CPU runtimes; use --device cpu")
    if args.runs < 1 or args.warmup < 0 or args.batch < 1 or args.threads < 1:
        p.error("--runs, --batch and --threads must be >= 1 and --warmup >= 0")
    return args


def _autocast(device: str, amp: bool) -> contextlib.AbstractContextManager:
    return torch.autocast("cuda", dtype=torch.float16) if amp else contextlib.nullcontext()


def time_onnxruntime(model: torch.nn.Module, hw: tuple[int, int], batch: int, threads: int, runs: int,
                     warmup: int) -> Timing:
    """Export (raw outputs, BN folded, normalisation inside) to a temporary file and time ``session.run``."""
    import onnxruntime as ort

    from densenets.deploy import export_onnx

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.onnx")
        export_onnx(copy.deepcopy(model).cpu(), path, hw, batch=batch)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    image = (torch.rand(batch, 3, *hw, generator=torch.Generator().manual_seed(0)) * 255).numpy()
    return time_fn(lambda: session.run(None, {"image": image}), runs, warmup)


def run(args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(args.threads)
    cfg = load_config(args.config, args.cfg_options)
    model = build_model(cfg)
    if args.checkpoint:
        load_model_weights(model, args.checkpoint)
    model.eval().to(args.device)
    hw = tuple(args.shape) if args.shape else eval_image_shape(cfg)
    padded = padded_shape(model, hw)
    onnx_model = copy.deepcopy(model).cpu() if args.onnxruntime else None
    channels_last = args.fused or args.device == "cuda"
    params = sum(p.numel() for p in model.parameters())  # as built: folding BN removes its affine parameters
    backends = [backend_candidate(b, model, hw, padded, args.export_dir, args.threads, args.batch)
                for b in args.backend]  # built from the unfolded model, before --fused folds it
    if args.fused:
        optimize_for_inference(model, channels_last=True)
    elif channels_last:
        model.to(memory_format=torch.channels_last)
    model_only, end_to_end = model_runners(model, hw, args.batch, channels_last)
    result: dict[str, Any] = dict(
        config=args.config, task=task_of(model), device=args.device, threads=args.threads, batch=args.batch,
        shape=list(hw), input_shape=list(padded), fused=args.fused, channels_last=channels_last, amp=args.amp,
        checkpoint=args.checkpoint, runs=args.runs, warmup=args.warmup,
        params=params,
    )
    sync = args.device if args.device == "cuda" else None
    fns = {"model_only": model_only, "end_to_end": end_to_end}
    for b in backends:
        fns.update({f"{b.name}_model_only": b.model_only, f"{b.name}_end_to_end": b.end_to_end})
    peer = find_peer(cfg) if args.compare_torchvision else None
    if peer is not None:
        runner = PeerRunner(peer, padded, args.device)
        tv_params = sum(p.numel() for p in runner.model.parameters())
        if args.fused:
            optimize_for_inference(runner.model, channels_last=False)  # the runner moves its input along
        if channels_last:
            runner.to_channels_last()
        fns.update(tv_model_only=runner.model_only, tv_end_to_end=runner.end_to_end)
    with torch.inference_mode(), _autocast(args.device, args.amp):
        # round-robin: ours and torchvision's calls alternate, so a busy machine slows all of them alike
        timings = {k: t.as_ms() for k, t in time_interleaved(fns, args.runs, args.warmup, sync).items()}
    result["model_only"], result["end_to_end"] = timings["model_only"], timings["end_to_end"]
    if args.compare_torchvision:
        result["torchvision"] = None
    if peer is not None:
        tv_model, tv_e2e = timings["tv_model_only"], timings["tv_end_to_end"]
        if args.batch != 1:
            result["torchvision_note"] = "torchvision figures are for batch 1"
        result["torchvision"] = dict(
            name=peer.name, notes=peer.notes, params=tv_params, model_only=tv_model, end_to_end=tv_e2e,
            ratio_model_only=round(result["model_only"]["median"] / tv_model["median"], 4),
            ratio_end_to_end=round(result["end_to_end"]["median"] / tv_e2e["median"], 4),
        )
    if backends:
        result["backends"] = {b.name: _backend_result(b, timings, result.get("torchvision")) for b in backends}
    if onnx_model is not None:
        result["onnxruntime"] = time_onnxruntime(onnx_model, padded, args.batch, args.threads, args.runs,
                                                 args.warmup).as_ms()
    return result


def _backend_result(b, timings: dict, tv: dict | None) -> dict[str, Any]:
    out: dict[str, Any] = dict(model_only=timings[f"{b.name}_model_only"], end_to_end=timings[f"{b.name}_end_to_end"],
                               file=b.file, file_bytes=b.file_bytes)
    if tv:
        for part in ("model_only", "end_to_end"):
            out[f"ratio_{part}"] = round(out[part]["median"] / tv[part]["median"], 4)
    return out


def _fmt(t: dict) -> str:
    return f"{t['median']:9.2f} ms  (p25 {t['p25']:.2f}, p75 {t['p75']:.2f}, min {t['min']:.2f}; {t['runs']} runs)"


def report(r: dict[str, Any]) -> None:
    mode = ", ".join(k for k, on in (("BN folded", r["fused"]), ("channels-last", r["channels_last"]),
                                     ("fp16 autocast", r["amp"])) if on) or "plain eval"
    print(f"{r['config']}: {r['task']}, {r['params']:,} params, image {r['shape'][0]}x{r['shape'][1]} "
          f"(network input {r['input_shape'][0]}x{r['input_shape'][1]}), batch {r['batch']}, {r['device']}, "
          f"{r['threads']} thread(s), {mode}")
    print(f"  ours model only   {_fmt(r['model_only'])}")
    print(f"  ours end to end   {_fmt(r['end_to_end'])}")
    tv = r.get("torchvision", "absent")
    if tv is None:
        print("  torchvision: no counterpart for this config (see densenets/analysis/peers.py)")
    elif tv != "absent":
        print(f"  {tv['name']} ({tv['params']:,} params; {tv['notes']})")
        print(f"    model only      {_fmt(tv['model_only'])}  ratio ours/torchvision {tv['ratio_model_only']:.3f}")
        print(f"    end to end      {_fmt(tv['end_to_end'])}  ratio ours/torchvision {tv['ratio_end_to_end']:.3f}")
    for name, b in r.get("backends", {}).items():
        size = f", {b['file_bytes'] / 2**20:.2f} MiB on disk" if b["file_bytes"] else ""
        vs = lambda part: f"  ratio /torchvision {b[f'ratio_{part}']:.3f}" if f"ratio_{part}" in b else ""  # noqa
        print(f"  --backend {name}{size}")
        print(f"    model only      {_fmt(b['model_only'])}{vs('model_only')}")
        print(f"    end to end      {_fmt(b['end_to_end'])}{vs('end_to_end')}")
    if "onnxruntime" in r:
        print(f"  onnxruntime (CPU, BN folded, raw outputs) {_fmt(r['onnxruntime'])}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    report(result)
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
