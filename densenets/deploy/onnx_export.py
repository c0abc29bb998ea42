"""ONNX export of densenets models for onnxruntime on the CPU.

The exported graph takes ``image``: float32 ``[B, 3, H, W]`` RGB in 0..255 (the pixel values a decoder gives) and
includes the model's normalisation, so a deployment feeds decoded pixels directly. BatchNorm is folded into the
convolutions first (eval mode), which removes every BN node.

Outputs:

* detectors, raw: ``cls_logits [B, A, K]`` and ``box_deltas [B, A, 4]`` (SSDLite's head outputs, anchors in the
  order of :meth:`SSDLite._anchors`);
* detectors, ``with_nms=True`` (SSDLite): ``boxes [N, 4]`` (``xyxy`` in input pixels), ``scores [N]``, ``labels [N]``
  (contiguous), ``batch_index [N]`` — the same post-processing as ``mode='predict'``: top-k candidates, one
  class-aware NMS (ONNX ``NonMaxSuppression``), ``max_per_img`` per image;
* segmentors: ``logits [B, K, H, W]`` at the input size, and with ``with_argmax=True`` also ``labels [B, H, W]``.

Opset 17: ``HardSigmoid``/``HardSwish``/``AveragePool`` with ``ceil_mode`` and ``Resize`` are native there and
onnxruntime's CPU provider runs them; the TorchScript-based exporter is used (the dynamo exporter needs onnxscript).
"""
from __future__ import annotations

import warnings
from typing import Sequence

import torch
from torch import Tensor, nn
from torchvision.ops import batched_nms

from ..models.fuse import fuse_conv_bn

DEFAULT_OPSET = 17


class _Normalise(nn.Module):
    """``(x - mean) / std`` with the model's data-preprocessor constants."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        pre = getattr(model, "data_preprocessor", None)
        mean = getattr(pre, "mean", None)
        std = getattr(pre, "std", None)
        self.register_buffer("mean", (mean if mean is not None else torch.zeros(3, 1, 1)).reshape(1, -1, 1, 1).clone())
        self.register_buffer("std", (std if std is not None else torch.ones(3, 1, 1)).reshape(1, -1, 1, 1).clone())

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std


class RawExport(nn.Module):
    """Normalisation + ``model(x, mode='tensor')``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.normalise = _Normalise(model)
        self.model = model

    def forward(self, image: Tensor):
        return self.model(self.normalise(image), mode="tensor")


class SegmentationExport(RawExport):
    """Logits (and optionally the argmax label map) of a segmentor."""

    def __init__(self, model: nn.Module, with_argmax: bool = False) -> None:
        super().__init__(model)
        self.with_argmax = with_argmax

    def forward(self, image: Tensor):
        logits = self.model(self.normalise(image), mode="tensor")
        if self.with_argmax:
            return logits, logits.argmax(1)
        return logits


class SSDLiteNMSExport(RawExport):
    """SSDLite with decoding and NMS in the graph, for a fixed input shape (anchors are constants)."""

    def __init__(self, model: nn.Module, shape: tuple[int, int], batch: int) -> None:
        super().__init__(model)
        self.batch = batch
        with torch.no_grad():
            feats = model.extract_feat(torch.zeros(1, 3, *shape))
            anchors = model._anchors(feats, torch.zeros(1, 3, *shape))
        self.register_buffer("anchors", anchors.clone())
        self.register_buffer("limits", torch.tensor([shape[1], shape[0], shape[1], shape[0]], dtype=torch.float32))
        post = model.postprocessor
        self.score_thr, self.nms_iou, self.max_per_img, self.topk = (
            post.score_thr, post.nms_iou, post.max_per_img, post.topk)

    def forward(self, image: Tensor):
        cls_logits, box_deltas = self.model(self.normalise(image), mode="tensor")
        m = self.model
        scores = cls_logits.softmax(-1)[..., 1:] if m.background_logit else cls_logits.sigmoid()
        num_anchors, num_classes = scores.shape[1], scores.shape[2]
        boxes = m.assigner.decode(box_deltas, self.anchors)
        boxes = torch.minimum(boxes.clamp(min=0), self.limits)
        k = min(self.topk, num_anchors * num_classes)
        outs: list[list[Tensor]] = [[], [], [], []]
        for b in range(self.batch):  # the batch is fixed at export, so this unrolls
            top_scores, top_idx = scores[b].reshape(-1).topk(k)
            anchor_idx = torch.div(top_idx, num_classes, rounding_mode="floor")
            labels = top_idx - anchor_idx * num_classes
            cand = boxes[b][anchor_idx]
            keep = top_scores > self.score_thr
            cand, top_scores, labels = cand[keep], top_scores[keep], labels[keep]
            kept = batched_nms(cand, top_scores, labels, self.nms_iou)[: self.max_per_img]
            outs[0].append(cand[kept])
            outs[1].append(top_scores[kept])
            outs[2].append(labels[kept])
            outs[3].append(torch.full_like(labels[kept], b))
        return tuple(torch.cat(o) for o in outs)


def _task(model: nn.Module) -> str:
    """``"ssdlite"`` (the NMS wrapper reads SSDLite's anchors and post-processor), else the model's ``task``."""
    from ..models.detectors import SSDLite

    if isinstance(model, SSDLite):
        return "ssdlite"
    return getattr(model, "task", "other")


def prepare_for_export(model: nn.Module) -> nn.Module:
    """Eval mode and BN folded into the convolutions (in place)."""
    model.eval()
    fuse_conv_bn(model)
    return model


def export_onnx(
    model: nn.Module,
    out: str,
    shape: tuple[int, int],
    batch: int = 1,
    dynamic_batch: bool = False,
    with_nms: bool = False,
    with_argmax: bool = False,
    opset: int = DEFAULT_OPSET,
) -> tuple[nn.Module, list[str]]:
    """Export ``model`` to ``out``; returns the wrapper that was traced (for parity checks) and the output names."""
    task = _task(model)
    prepare_for_export(model)
    if with_nms:
        if task != "ssdlite":
            raise ValueError(f"--with-nms is supported for SSDLite models, not {type(model).__name__}")
        if dynamic_batch:
            raise ValueError("--with-nms exports a fixed batch size (anchors and the per-image NMS are unrolled); "
                             "drop --dynamic-batch or export the raw head outputs")
        wrapper: nn.Module = SSDLiteNMSExport(model, shape, batch)
        names = ["boxes", "scores", "labels", "batch_index"]
    elif task == "segmentation":
        wrapper = SegmentationExport(model, with_argmax)
        names = ["logits", "labels"] if with_argmax else ["logits"]
    elif task == "ssdlite":
        wrapper = RawExport(model)
        names = ["cls_logits", "box_deltas"]
    else:
        wrapper = RawExport(model)
        with torch.no_grad():
            outputs = wrapper(torch.zeros(batch, 3, *shape))
        count = len(outputs) if isinstance(outputs, (tuple, list)) else 1
        names = [f"output_{i}" for i in range(count)]
    wrapper.eval()
    dummy = torch.rand(batch, 3, *shape) * 255
    dynamic_axes = {n: {0: "batch"} for n in ["image", *names]} if dynamic_batch else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python-side shape arithmetic
        torch.onnx.export(
            wrapper, (dummy,), out, input_names=["image"], output_names=names, opset_version=opset,
            dynamic_axes=dynamic_axes, do_constant_folding=True, dynamo=False,
        )
    return wrapper, names


def run_onnxruntime(path: str, image: Tensor, threads: int = 1) -> Sequence:
    """Run an exported model on the CPU provider; returns numpy outputs."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    return session.run(None, {"image": image.numpy()})


def unmatched_detections(ref: Sequence[Tensor], other: Sequence, score_tol: float = 1e-4) -> int:
    """How many of the reference detections ``(boxes, scores, labels, batch_index)`` have no twin (same image and
    class, IoU > 0.999, score within ``score_tol``) in ``other``; the order of equal-score detections may differ."""
    from torchvision.ops import box_iou

    rb, rs, rl, ri = (torch.as_tensor(t) for t in ref)
    ob, os_, ol, oi = (torch.as_tensor(t) for t in other)
    if len(rs) == 0 or len(os_) == 0:
        return len(rs)
    same = (box_iou(rb.float(), ob.float()) > 0.999) & (rl[:, None] == ol[None]) & (ri[:, None] == oi[None])
    same &= (rs[:, None] - os_[None]).abs() < score_tol
    return int((~same.any(1)).sum())
