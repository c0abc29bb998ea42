"""ExecuTorch export (XNNPACK delegate) in float32 or int8, with a side-car JSON of what the program was made from.

The graph is the one ONNX export builds (:mod:`densenets.deploy.wrappers`: float32 RGB 0..255 input, normalisation,
BN folded, the network; SSDLite raw head outputs, segmentation logits or argmax, classifier logits), captured with
``torch.export`` for batch 1 at a fixed input size and lowered with
``executorch.exir.to_edge_transform_and_lower(..., partitioner=[XnnpackPartitioner()])``; XNNPACK is the CPU kernel
library TFLite uses on phones, where the MobileNet papers measure their latencies.

int8 (``quantize="int8"``): a quantization-aware-trained model (:mod:`densenets.deploy.qat`) is converted as it
was trained; any other model gets post-training quantization with PT2E — ``torchao.quantization.pt2e.quantize_pt2e``
``prepare_pt2e`` / ``convert_pt2e`` with ExecuTorch's ``XNNPACKQuantizer`` and
``get_symmetric_quantization_config(is_per_channel=True)`` (int8 symmetric per-output-channel weights, int8
per-tensor activations with min/max observers), calibrated on images from :mod:`densenets.deploy.calibration`;
XNNPACK runs the quantized convolutions with its int8 kernels.

Decoding and NMS (SSDLite) and the resize to the original image (segmentation) stay in the models' Python
post-processing, which the PyTorch path shares (:class:`densenets.deploy.runtimes.ExportedModel`).
"""
from __future__ import annotations

import hashlib
import json
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, Iterable

import torch
from torch import Tensor, nn

from .wrappers import export_wrapper, output_names

QUANTIZE_CHOICES = (None, "int8")


@dataclass
class ExecuTorchExport:
    """What :func:`export_executorch` made: the eager wrapper it captured (the fp32 reference), the output names,
    the task, the files written and, for int8, the converted (fake-quantized) PyTorch graph."""

    wrapper: nn.Module
    names: list[str]
    task: str
    path: str
    sidecar: str
    quantized: nn.Module | None = None
    info: dict[str, Any] = field(default_factory=dict)


def sidecar_path(pte: str) -> str:
    """``model.pte`` -> ``model.json``."""
    return osp.splitext(pte)[0] + ".json"


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def versions() -> dict[str, str]:
    """Installed versions of the packages that made (and must run) the program."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("densenets", "torch", "executorch", "torchao"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _quantize_int8(wrapper: nn.Module, example: Tensor, calib: Iterable[Tensor]) -> tuple[nn.Module, int]:
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    captured = torch.export.export(wrapper, (example,)).module()
    quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
    prepared = prepare_pt2e(captured, quantizer)
    count = 0
    with torch.no_grad():
        for image in calib:
            if tuple(image.shape) != tuple(example.shape):
                raise ValueError(f"calibration image of shape {tuple(image.shape)}; the program takes "
                                 f"{tuple(example.shape)}")
            prepared(image)
            count += 1
    if count == 0:
        raise ValueError("int8 calibration got no images (empty calibration set)")
    return convert_pt2e(prepared), count


class _ArgmaxToo(nn.Module):
    """A segmentation graph's logits and their argmax (``--with-argmax`` of a QAT graph, captured without it)."""

    def __init__(self, graph: nn.Module) -> None:
        super().__init__()
        self.graph = graph

    def forward(self, image: Tensor):
        logits = self.graph(image)
        return logits, logits.argmax(1)


def _with_argmax(graph: nn.Module, with_argmax: bool) -> nn.Module:
    return _ArgmaxToo(graph) if with_argmax else graph


def lower_to_executorch(module: nn.Module, example: Tensor) -> bytes:
    """``torch.export`` -> edge dialect with XNNPACK partitions -> ExecuTorch program bytes."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    program = torch.export.export(module, (example,))
    edge = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()])
    return edge.to_executorch().buffer


def export_executorch(
    model: nn.Module,
    out: str,
    shape: tuple[int, int],
    quantize: str | None = None,
    calib: Iterable[Tensor] | None = None,
    with_argmax: bool = False,
    meta: dict[str, Any] | None = None,
) -> ExecuTorchExport:
    """Export ``model`` (folded in place) to the ExecuTorch program ``out`` for a ``[1, 3, H, W]`` input.

    ``model`` may be a trained :class:`~densenets.deploy.qat.QATModel` (``quantize="int8"``, no calibration): its
    graph is converted with ``convert_pt2e``; ``wrapper`` is then the fake-quantized graph it was trained as.

    ``calib``: float32 ``[1, 3, H, W]`` 0..255 images for int8 calibration. ``meta``: what the program was made
    from (config, checkpoint, calibration set), written with the input, outputs, quantization and versions to the
    side-car JSON (:func:`sidecar_path`).
    """
    from .qat import SCHEME as QAT_SCHEME, QATModel

    if quantize not in QUANTIZE_CHOICES:
        raise ValueError(f"quantize must be one of {QUANTIZE_CHOICES}, got {quantize!r}")
    qat = isinstance(model, QATModel)
    if qat and quantize != "int8":
        raise ValueError("a quantization-aware-trained model exports as int8 (quantize='int8')")
    if quantize and not qat and calib is None:
        raise ValueError("int8 export needs calibration images (calib=...)")
    example = torch.rand(1, 3, *shape, generator=torch.Generator().manual_seed(0)) * 255
    quantized, calibrated = None, 0
    if qat:  # the trained fake-quantized graph is the reference; convert_pt2e replaces calibration
        model.eval()
        wrapper, names, task = _with_argmax(model.graph, with_argmax), list(model.names), model.graph_kind
        if with_argmax:
            names.append("labels")
        quantized = _with_argmax(model.convert(), with_argmax)
        module: nn.Module = quantized
        model = model.float_model
    else:
        wrapper, names, task = export_wrapper(model, with_argmax)
        names = output_names(wrapper, names, example)
        module = wrapper
    if quantize == "int8" and not qat:
        quantized, calibrated = _quantize_int8(wrapper, example, calib)
        module = quantized
    buffer = lower_to_executorch(module, example)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, "wb") as f:
        f.write(buffer)
    info: dict[str, Any] = dict(meta or {})
    info.update(
        format="executorch", delegate="xnnpack", task=task, model=type(model).__name__,
        input=dict(name="image", shape=[1, 3, *shape], dtype="float32", range="0..255", channels="RGB",
                   normalisation="inside the graph"),
        outputs=names,
        quantization=None if quantize is None else dict(mode="int8 QAT", scheme=QAT_SCHEME) if qat else dict(
            mode="int8 PTQ", scheme="int8 PT2E post-training, XNNPACKQuantizer symmetric, per-channel weights",
            calibration_images=calibrated),
        bytes=len(buffer), sha256=file_sha256(out), versions=versions(),
    )
    side = sidecar_path(out)
    with open(side, "w") as f:
        json.dump(info, f, indent=1)
    return ExecuTorchExport(wrapper, names, task, out, side, quantized, info)


def read_sidecar(pte: str) -> dict[str, Any]:
    """The side-car JSON of an exported program, or ``{}`` when there is none."""
    side = sidecar_path(pte)
    if not osp.isfile(side):
        return {}
    with open(side) as f:
        return json.load(f)
