"""Timing candidates for one model on every runtime: what ``tools/analysis/benchmark.py --backend ...`` times.

Each backend gives two argument-free callables on the same random batch (``densenets.analysis.bench_inputs``),
timed round-robin with the other candidates of the run (``densenets.analysis.timing.time_interleaved``):

* ``model_only`` — the network alone: eager ``model(x, mode="tensor")`` on the normalised batch; for an exported
  program the program on the 0..255 pixel batch (its graph normalises, so this includes one subtraction and one
  division per pixel);
* ``end_to_end`` — data preprocessor (pad, stack, and for eager normalise) + network + post-processing (SSDLite
  decoding, NMS, boxes in original pixels; segmentation resize + argmax), the same Python post-processing for every
  backend (:class:`densenets.deploy.runtimes.ExportedModel`).

Backends: ``eager`` (the model as built, eval), ``fused`` (BN folded + channels-last, one
:func:`densenets.models.fuse.optimize_for_inference`), ``onnxruntime`` (CPU provider), ``executorch`` (fp32,
XNNPACK) and ``executorch_int8`` (PT2E int8, XNNPACK). The exported files are written to ``workdir`` and their sizes
on disk reported. The int8 program is calibrated on ``calib`` images (default: random 0..255 images — latency does
not depend on the calibration, accuracy does; see ``tools/test.py --backend executorch``).
"""
from __future__ import annotations

import copy
import os
import os.path as osp
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
from torch import Tensor, nn

from .bench_inputs import model_runners
from ..models.fuse import optimize_for_inference

BACKEND_CHOICES = ("eager", "fused", "onnxruntime", "executorch", "executorch_int8")


@dataclass
class BackendCandidate:
    """Two timing callables and what was built for them."""

    name: str
    model_only: Callable[[], Any]
    end_to_end: Callable[[], Any]
    file: str | None = None
    file_bytes: int | None = None


def _exported(model: nn.Module, runtime: Any) -> nn.Module:
    from ..deploy.runtimes import ExportedModel

    return ExportedModel(model, runtime=runtime)


def backend_candidate(
    name: str, model: nn.Module, hw: tuple[int, int], input_hw: tuple[int, int], workdir: str, threads: int = 1,
    batch: int = 1, calib: Sequence[Tensor] | None = None,
) -> BackendCandidate:
    """The timing callables of backend ``name`` for a copy of ``model`` (eval, CPU); ``hw``: image size after the
    test pipeline, ``input_hw``: the padded network input (the exported programs' size)."""
    if name not in BACKEND_CHOICES:
        raise ValueError(f"backend must be one of {BACKEND_CHOICES}, got {name!r}")
    own = copy.deepcopy(model).cpu().eval()
    if name == "eager":
        return BackendCandidate(name, *model_runners(own, hw, batch))
    if name == "fused":
        optimize_for_inference(own, channels_last=True)
        return BackendCandidate(name, *model_runners(own, hw, batch, channels_last=True))
    os.makedirs(workdir, exist_ok=True)
    post = copy.deepcopy(model).cpu().eval()  # the post-processing side of ExportedModel (its weights unused)
    if name == "onnxruntime":
        from ..deploy.onnx_export import export_onnx
        from ..deploy.runtimes import OnnxRuntime

        path = osp.join(workdir, "model.onnx")
        export_onnx(own, path, input_hw, batch=batch)
        runtime: Any = OnnxRuntime(path, threads)
    else:
        from ..deploy.executorch_export import export_executorch
        from ..deploy.runtimes import ExecuTorchRuntime

        int8 = name == "executorch_int8"
        path = osp.join(workdir, "model_int8.pte" if int8 else "model.pte")
        if int8 and calib is None:
            g = torch.Generator().manual_seed(0)
            calib = [torch.rand(1, 3, *input_hw, generator=g) * 255 for _ in range(8)]
        export_executorch(own, path, input_hw, "int8" if int8 else None, calib)
        runtime = ExecuTorchRuntime(path, threads)
    exported = _exported(post, runtime)
    model_only, end_to_end = model_runners(exported, hw, batch)
    return BackendCandidate(name, model_only, end_to_end, path, os.path.getsize(path))
