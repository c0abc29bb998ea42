"""The graphs densenets exports: one wrapper per task, shared by the ONNX and the ExecuTorch exporter.

Every wrapper takes ``image``: float32 ``[B, 3, H, W]`` RGB in 0..255 (the pixel values a decoder gives) and holds
the model's normalisation, so a deployment feeds decoded pixels directly. The model is folded for inference first
(:func:`densenets.models.fuse.optimize_for_inference`: eval mode, BN folded into the convolutions).

* SSDLite (:class:`RawExport`): ``cls_logits [B, A, K]`` and ``box_deltas [B, A, 4]``, the head's raw outputs
  (anchors in the order of ``SSDLite._anchors``); decoding and NMS stay in ``SSDLite.predict_from_outputs``, the
  same Python post-processing as ``mode="predict"``.
* segmentors (:class:`SegmentationExport`): ``logits [B, K, H, W]`` at the input size, optionally also the argmax
  ``labels [B, H, W]``.
* the backbones' classification form (:class:`ClassifierExport`, ``ImageClassifier``): ``logits [B, 1000]`` with
  torchvision's ImageNet normalisation (the weights it loads are torchvision's).
"""
from __future__ import annotations

import copy
from typing import Sequence

import torch
from torch import Tensor, nn

from ..models.fuse import optimize_for_inference

#: torchvision's ImageNet mean / std in 0..255 units (``transforms._presets.ImageClassification``).
IMAGENET_MEAN = (0.485 * 255, 0.456 * 255, 0.406 * 255)
IMAGENET_STD = (0.229 * 255, 0.224 * 255, 0.225 * 255)


class Normalise(nn.Module):
    """``(x - mean) / std`` with per-channel constants in 0..255 units."""

    def __init__(self, mean: Sequence[float] | Tensor, std: Sequence[float] | Tensor) -> None:
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).reshape(1, -1, 1, 1).clone())
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32).reshape(1, -1, 1, 1).clone())

    @classmethod
    def of(cls, model: nn.Module) -> "Normalise":
        """The constants of ``model.data_preprocessor`` (mean / std in pixel units)."""
        pre = getattr(model, "data_preprocessor", None)
        mean, std = getattr(pre, "mean", None), getattr(pre, "std", None)
        if mean is None or std is None:
            raise ValueError(f"{type(model).__name__} has no data_preprocessor with mean/std to put in the graph")
        return cls(mean, std)

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std


def task_of(model: nn.Module) -> str:
    """``"ssdlite"`` (the exported graph ends at SSDLite's raw box codes and scores), else the model's declared
    ``task`` (``"segmentation"``, ``"classification"``, ``"detection"``), ``"other"`` without one."""
    from ..models.detectors import SSDLite

    if isinstance(model, SSDLite):
        return "ssdlite"
    return getattr(model, "task", "other")


class RawExport(nn.Module):
    """Normalisation + ``model(x, mode='tensor')``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.normalise = Normalise.of(model)
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


class ClassifierExport(nn.Module):
    """ImageNet normalisation + an ``ImageClassifier``'s logits."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.normalise = Normalise(IMAGENET_MEAN, IMAGENET_STD)
        self.model = model

    def forward(self, image: Tensor) -> Tensor:
        return self.model(self.normalise(image))


def export_wrapper(model: nn.Module, with_argmax: bool = False,
                   fold: bool = True) -> tuple[nn.Module, list[str], str]:
    """Fold ``model`` for inference (in place) and wrap it for export; returns ``(wrapper, output names, task)``.

    ``fold=False``: the same graph with BN left as it is and the training mode kept, for quantization-aware
    training (PT2E simulates the conv-BN folding itself, ``densenets.deploy.qat``)."""
    task = task_of(model)
    if fold:
        optimize_for_inference(model, channels_last=False)
    if with_argmax and task != "segmentation":
        raise ValueError(f"with_argmax is for segmentors, not {type(model).__name__}")
    if task == "segmentation":
        wrapper: nn.Module = SegmentationExport(model, with_argmax)
        names = ["logits", "labels"] if with_argmax else ["logits"]
    elif task == "ssdlite":
        wrapper, names = RawExport(model), ["cls_logits", "box_deltas"]
    elif task == "classification":
        wrapper, names = ClassifierExport(model), ["logits"]
    else:
        wrapper, names = RawExport(model), []  # names: output_<i>, counted by the exporter
    return (wrapper.eval() if fold else wrapper.train(model.training)), names, task


def pixel_preprocessor(model: nn.Module) -> nn.Module:
    """A copy of ``model.data_preprocessor`` that pads like the model's own (``pad_value`` is in pixel units) but
    keeps the 0..255 pixels: the exported graph normalises."""
    pre = copy.deepcopy(getattr(model, "data_preprocessor", None))
    if not (hasattr(pre, "mean") and hasattr(pre, "std")):
        raise ValueError(f"{type(model).__name__}: no ImagePreprocessor-like data_preprocessor (mean / std)")
    pre.mean.fill_(0.0)
    pre.std.fill_(1.0)
    pre.channels_last = False
    return pre


def output_names(wrapper: nn.Module, names: list[str], example: Tensor) -> list[str]:
    """``names``, or ``output_<i>`` for each output of ``wrapper(example)`` when the task has no fixed names."""
    if names:
        return names
    with torch.no_grad():
        outputs = wrapper(example)
    count = len(outputs) if isinstance(outputs, (tuple, list)) else 1
    return [f"output_{i}" for i in range(count)]
