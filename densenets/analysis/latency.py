"""Inference latency of a config's model: model only and end to end, optionally against torchvision's counterpart
(``densenets.analysis.peers``) and onnxruntime — the default mode of ``tools/analysis/benchmark.py``.

* model only: ``model(x, mode="tensor")`` on a normalised, padded float batch (network only);
* end to end: ``data_preprocessor`` (uint8 -> float, normalise, pad) + ``mode="predict"`` (network + decoding, NMS
  and boxes in original pixels, or logits resized to the image and argmax). The host-side pipeline resize is not
  included: the random uint8 image already has the size the test pipeline produces (``shape``, default: the
  config's test resize of a typical dataset image, see ``densenets/analysis/bench_inputs.py``).
* post-processing alone (SSDLite): ``predict_from_outputs`` on head outputs computed once (decoding, NMS, boxes in
  original pixels), against torchvision's ``postprocess_detections`` + ``transform.postprocess`` on its own head
  outputs of the same image (``densenets.analysis.peers``): the part of end to end that is not the network, timed
  on its own because the difference of two noisy end-to-end figures is not a measurement.

Figures are median (p25-p75) in milliseconds over ``runs`` timed runs after ``warmup`` untimed ones
(``densenets.analysis.timing``); the candidates (ours and torchvision's, model only and end to end) are called
round-robin so that load changes on a shared machine affect them alike. ``fused`` folds BN into the convolutions and
uses channels-last; CUDA always uses channels-last, ``amp`` adds fp16 autocast. ``compare_torchvision`` times
torchvision's counterpart in the same run (ratios ours / torchvision, < 1: ours is faster). ``onnxruntime`` exports
the model (BN folded, normalisation inside) to a temporary file and times onnxruntime's CPU provider.
Weights are random unless ``checkpoint`` is given; latency does not depend on them except for end-to-end
post-processing (how many boxes survive the score threshold).
"""
from __future__ import annotations

import contextlib
import copy
import os
import tempfile
from typing import Any

import torch

from densenets.analysis.bench_inputs import (eval_image_shape, model_runners, padded_shape,
                                             post_processing_runner, task_of)
from densenets.analysis.peers import PeerRunner, find_peer
from densenets.analysis.timing import Timing, time_fn, time_interleaved
from densenets.apis import build_model, load_config, load_model_weights
from densenets.analysis.backends import backend_candidate
from densenets.models.fuse import optimize_for_inference


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


def run_latency(args: Any) -> dict[str, Any]:
    """Time ``args.config``'s model (the options of ``tools/analysis/benchmark.py``'s latency mode)."""
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
                for b in getattr(args, "backend", None) or ()]  # built from the unfolded model, before --fused
    if args.fused:
        optimize_for_inference(model, channels_last=True)
    elif channels_last:
        model.to(memory_format=torch.channels_last)
    model_only, end_to_end = model_runners(model, hw, args.batch, channels_last)
    post_processing = post_processing_runner(model, hw, args.batch)
    result: dict[str, Any] = dict(
        config=args.config, task=task_of(model), device=args.device, threads=args.threads, batch=args.batch,
        shape=list(hw), input_shape=list(padded), fused=args.fused, channels_last=channels_last, amp=args.amp,
        checkpoint=args.checkpoint, runs=args.runs, warmup=args.warmup,
        params=params,
    )
    sync = args.device if args.device == "cuda" else None
    fns = {"model_only": model_only, "end_to_end": end_to_end}
    if post_processing is not None:
        fns["post_processing"] = post_processing
    peer = find_peer(cfg) if args.compare_torchvision else None
    if peer is not None:
        runner = PeerRunner(peer, padded, args.device)
        tv_params = sum(p.numel() for p in runner.model.parameters())
        if args.fused:
            optimize_for_inference(runner.model, channels_last=False)  # the runner moves its input along
        if channels_last:
            runner.to_channels_last()
        fns.update(tv_model_only=runner.model_only, tv_end_to_end=runner.end_to_end)
        tv_post = runner.post_processing() if post_processing is not None and args.batch == 1 else None
        if tv_post is not None:
            fns["tv_post_processing"] = tv_post
    for b in backends:
        fns.update({f"{b.name}_model_only": b.model_only, f"{b.name}_end_to_end": b.end_to_end})
    with torch.inference_mode(), _autocast(args.device, args.amp):
        # round-robin in a new seeded order each round: ours and torchvision's calls alternate, so a busy machine
        # slows all of them alike, and no candidate always runs right after the same other one
        timings = {k: t.as_ms() for k, t in time_interleaved(fns, args.runs, args.warmup, sync, order_seed=0).items()}
    result["model_only"], result["end_to_end"] = timings["model_only"], timings["end_to_end"]
    if "post_processing" in timings:
        result["post_processing"] = timings["post_processing"]
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
        if "tv_post_processing" in timings:
            tv_post_t = timings["tv_post_processing"]
            result["torchvision"].update(post_processing=tv_post_t, ratio_post_processing=round(
                result["post_processing"]["median"] / tv_post_t["median"], 4))
    if onnx_model is not None:
        result["onnxruntime"] = time_onnxruntime(onnx_model, padded, args.batch, args.threads, args.runs,
                                                 args.warmup).as_ms()
    if backends:
        result["backends"] = {b.name: _backend_result(b, timings, result.get("torchvision")) for b in backends}
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


def format_latency(r: dict[str, Any]) -> str:
    mode = ", ".join(k for k, on in (("BN folded", r["fused"]), ("channels-last", r["channels_last"]),
                                     ("fp16 autocast", r["amp"])) if on) or "plain eval"
    lines = [f"{r['config']}: {r['task']}, {r['params']:,} params, image {r['shape'][0]}x{r['shape'][1]} "
          f"(network input {r['input_shape'][0]}x{r['input_shape'][1]}), batch {r['batch']}, {r['device']}, "
          f"{r['threads']} thread(s), {mode}"]
    lines.append(f"  ours model only   {_fmt(r['model_only'])}")
    lines.append(f"  ours end to end   {_fmt(r['end_to_end'])}")
    if "post_processing" in r:
        lines.append(f"  ours post-processing alone {_fmt(r['post_processing'])}")
    tv = r.get("torchvision", "absent")
    if tv is None:
        lines.append("  torchvision: no counterpart for this config (see densenets/analysis/peers.py)")
    elif tv != "absent":
        lines.append(f"  {tv['name']} ({tv['params']:,} params; {tv['notes']})")
        lines.append(f"    model only      {_fmt(tv['model_only'])}  "
                     f"ratio ours/torchvision {tv['ratio_model_only']:.3f}")
        lines.append(f"    end to end      {_fmt(tv['end_to_end'])}  "
                     f"ratio ours/torchvision {tv['ratio_end_to_end']:.3f}")
        if "post_processing" in tv:
            lines.append(f"    post-processing alone {_fmt(tv['post_processing'])}  "
                         f"ratio ours/torchvision {tv['ratio_post_processing']:.3f}")
    if "onnxruntime" in r:
        lines.append(f"  onnxruntime (CPU, BN folded, raw outputs) {_fmt(r['onnxruntime'])}")
    for name, b in r.get("backends", {}).items():
        size = f", {b['file_bytes'] / 2**20:.2f} MiB on disk" if b["file_bytes"] else ""
        lines.append(f"  --backend {name}{size}")
        for part, label in (("model_only", "model only"), ("end_to_end", "end to end")):
            vs = f"  ratio /torchvision {b[f'ratio_{part}']:.3f}" if f"ratio_{part}" in b else ""
            lines.append(f"    {label:<15} {_fmt(b[part])}{vs}")
    return "\n".join(lines)
