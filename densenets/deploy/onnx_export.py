"""ONNX export of densenets models for onnxruntime on the CPU.

The exported graph takes ``image``: float32 ``[B, 3, H, W]`` RGB in 0..255 (the pixel values a decoder gives) and
includes the model's normalisation, so a deployment feeds decoded pixels directly. BatchNorm is folded into the
convolutions first (eval mode), which removes every BN node.

Outputs: those of :mod:`densenets.deploy.wrappers` (the graph ExecuTorch export builds too), and

* detectors, ``with_nms=True`` (SSDLite): ``boxes [N, 4]`` (``xyxy`` in input pixels), ``scores [N]``, ``labels [N]``
  (contiguous), ``batch_index [N]``: the first pass of ``mode='predict'``'s post-processing only — the ``topk``
  best (anchor, class) candidates, one class-aware NMS (ONNX ``NonMaxSuppression``), ``max_per_img`` per image, no
  per-class cap. It equals ``mode='predict'`` (TF's lossless order) whenever ``max_per_img`` detections survive
  among those candidates; in a dense cluster where they do not, it returns fewer. The default raw-output graph +
  densenets' post-processing (``densenets.deploy.runtimes``) is exact in every case.

Opset 17: ``HardSigmoid``/``HardSwish``/``AveragePool`` with ``ceil_mode`` and ``Resize`` are native there and
onnxruntime's CPU provider runs them; the TorchScript-based exporter is used (the dynamo exporter needs onnxscript).
"""
from __future__ import annotations

import warnings
from typing import Sequence

import torch
from torch import Tensor, nn
from torchvision.ops import batched_nms

from .wrappers import RawExport, export_wrapper, output_names

DEFAULT_OPSET = 17


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
    if with_nms:
        if dynamic_batch:
            raise ValueError("--with-nms exports a fixed batch size (anchors and the per-image NMS are unrolled); "
                             "drop --dynamic-batch or export the raw head outputs")
        wrapper, _, task = export_wrapper(model)
        if task != "ssdlite":
            raise ValueError(f"--with-nms is supported for SSDLite models, not {type(model).__name__}")
        wrapper = SSDLiteNMSExport(model, shape, batch)
        names = ["boxes", "scores", "labels", "batch_index"]
    else:
        wrapper, names, _ = export_wrapper(model, with_argmax)
        names = output_names(wrapper, names, torch.zeros(batch, 3, *shape))
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
