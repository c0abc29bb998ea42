"""Which input a config's model sees at test time, and random batches of that size for benchmarks.

The test pipelines resize on the host (``Resize`` to a fixed size for SSDLite, ``ResizeShortestEdge`` for Faster
R-CNN, none for Cityscapes' full-resolution evaluation); the data preprocessor then pads to its ``size_divisor``.
For a pipeline that keeps the image's size, the benchmark image is the dataset's typical image: COCO's most common
640 x 480 (w x h) photo and Cityscapes' 2048 x 1024 frame.
"""
from __future__ import annotations

from typing import Any

import torch
from mmengine.config import Config
from torch import nn

COCO_TYPICAL_HW = (480, 640)


class BenchmarkInputError(ValueError):
    """A benchmark asked of an input it does not apply to (a config without a torchvision peer, missing files):
    ``tools/analysis/benchmark.py`` prints it as an error, without a traceback."""

CITYSCAPES_HW = (1024, 2048)


def task_of(model: nn.Module) -> str:
    """The benchmark family: ``"ssdlite"`` / ``"faster_rcnn"`` for the two detectors, else the model's ``task``
    (``"segmentation"``, ``"classification"``), ``"other"`` for a module without one (a bare backbone)."""
    from ..models.detectors import FasterRCNN, SSDLite

    if isinstance(model, SSDLite):
        return "ssdlite"
    if isinstance(model, FasterRCNN):
        return "faster_rcnn"
    return getattr(model, "task", "other")


def typical_image_hw(cfg: Config) -> tuple[int, int]:
    """The dataset's typical image size before the pipeline (Cityscapes frame, else a COCO photo)."""
    loader = cfg.get("test_dataloader") or cfg.get("val_dataloader") or {}
    ds_type = str(loader.get("dataset", {}).get("type", ""))
    return CITYSCAPES_HW if "cityscapes" in ds_type.lower() else COCO_TYPICAL_HW


def _pipeline_steps(cfg: Config) -> list[dict]:
    loader = cfg.get("test_dataloader") or cfg.get("val_dataloader") or {}
    steps: list[dict] = []
    for step in loader.get("dataset", {}).get("pipeline", []) or []:
        if isinstance(step, dict):
            steps.extend(t for t in step.get("transforms", [step]) if isinstance(t, dict))
    return steps


def eval_image_shape(cfg: Config, image_hw: tuple[int, int] | None = None) -> tuple[int, int]:
    """``(h, w)`` of an image of ``image_hw`` (default :func:`typical_image_hw`) after the config's test resize."""
    from densenets.datasets.transforms import ResizeShortestEdge

    h, w = image_hw or typical_image_hw(cfg)
    for t in _pipeline_steps(cfg):
        if t.get("type") == "Resize" and "height" in t:
            h, w = int(t["height"]), int(t["width"])
        elif t.get("type") == "ResizeShortestEdge":
            h, w = ResizeShortestEdge.target_size(h, w, int(t.get("short", 600)), int(t.get("max_long", 1000)))
    return h, w


def padded_shape(model: nn.Module, hw: tuple[int, int]) -> tuple[int, int]:
    """``hw`` padded as the model's data preprocessor pads a batch (to a multiple of ``size_divisor``)."""
    d = int(getattr(getattr(model, "data_preprocessor", None), "size_divisor", 1) or 1)
    return (-(-hw[0] // d) * d, -(-hw[1] // d) * d)


def random_batch(model: nn.Module, hw: tuple[int, int], batch: int = 1, seed: int = 0) -> dict[str, Any]:
    """``{"inputs": [uint8 3 x H x W] * batch, "data_samples": [...]}`` as the test pipeline packs images of ``hw``
    (``ori_shape == img_shape``, ``scale_factor`` 1): what ``model.data_preprocessor`` takes."""
    g = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 256, (3, *hw), dtype=torch.uint8, generator=g) for _ in range(batch)]
    samples = [dict(ori_shape=tuple(hw), img_shape=tuple(hw), scale_factor=(1.0, 1.0), flip=False)
               for _ in range(batch)]
    return dict(inputs=inputs, data_samples=samples)


def model_runners(
    model: nn.Module, hw: tuple[int, int], batch: int = 1, channels_last: bool = False, seed: int = 0
) -> tuple[Any, Any]:
    """Two argument-free callables on a random batch of ``hw`` images, for timing (call under ``inference_mode``):

    * model only: ``model(x, mode="tensor")`` on the already normalised, padded float batch ``x``;
    * end to end: ``model.data_preprocessor`` (uint8 -> float, normalise, pad, stack) + ``mode="predict"``
      (network and post-processing: decoding + NMS + boxes in original pixels, or logits resized + argmax).
    """
    data = random_batch(model, hw, batch, seed)
    device = next(model.parameters()).device
    pre = model.data_preprocessor
    if channels_last and hasattr(pre, "channels_last"):
        pre.channels_last = True
    with torch.no_grad():
        packed = dict(inputs=list(data["inputs"]), data_samples=[dict(s) for s in data["data_samples"]])
        x = pre(packed, False)["inputs"]
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    x = x.to(device)

    def model_only() -> Any:
        return model(x, mode="tensor")

    def end_to_end() -> Any:
        batch_data = pre(dict(inputs=list(data["inputs"]), data_samples=[dict(s) for s in data["data_samples"]]),
                         False)
        return model(batch_data["inputs"], batch_data["data_samples"], mode="predict")

    return model_only, end_to_end


def post_processing_runner(model: nn.Module, hw: tuple[int, int], batch: int = 1, seed: int = 0) -> Any | None:
    """SSDLite: an argument-free callable running ``predict_from_outputs`` (scores, decoding, NMS, boxes in original
    pixels) on head outputs of a random batch computed once; ``None`` for other models."""
    from ..models.detectors import SSDLite

    if not isinstance(model, SSDLite):
        return None
    data = random_batch(model, hw, batch, seed)
    with torch.inference_mode():
        packed = model.data_preprocessor(data, False)
        x, samples = packed["inputs"], packed["data_samples"]
        features = model.extract_feat(x)
        cls_logits, box_deltas = model.head(list(features.values()))
        anchors = model._anchors(features, x)
    return lambda: model.predict_from_outputs(cls_logits, box_deltas, anchors, x, samples)
