"""Drawing predictions on images (used by ``DenseVisualizationHook``, ``tools/test.py --show-dir`` and inference).

Inputs follow docs/design.md: detection samples carry ``pred_boxes`` (xyxy, original-image pixels), ``pred_scores``,
``pred_labels`` (contiguous); segmentation samples carry ``pred_sem_seg`` (trainIds at the original size). Boxes are
drawn with :func:`torchvision.utils.draw_bounding_boxes`; label maps are blended with a palette (the dataset's
``metainfo['palette']`` if present, else the Cityscapes trainId colours of :mod:`densenets.datasets.cityscapes_labels`).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from PIL import Image
from torchvision.utils import draw_bounding_boxes

from ..datasets.cityscapes_labels import CITYSCAPES_PALETTE

Palette = Sequence[Sequence[int]]


def read_image(path: str) -> np.ndarray:
    """The image file as an ``H x W x 3`` uint8 RGB array (error names the file)."""
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB")).copy()
    except (OSError, ValueError) as err:
        raise OSError(f"{path}: cannot read image to draw on ({err})") from err


def _as_chw_uint8(image: np.ndarray | torch.Tensor) -> torch.Tensor:
    t = torch.as_tensor(image)
    if t.dim() != 3:
        raise ValueError(f"expected an image of 3 dims (HWC or CHW), got shape {tuple(t.shape)}")
    if t.shape[0] != 3 and t.shape[-1] == 3:
        t = t.permute(2, 0, 1)
    if t.dtype != torch.uint8:
        raise ValueError(f"expected a uint8 image, got {t.dtype}")
    return t.contiguous()


def draw_detections(
    image: np.ndarray | torch.Tensor,
    boxes: torch.Tensor,
    scores: torch.Tensor,
    labels: torch.Tensor,
    class_names: Sequence[str] | None = None,
    score_thr: float = 0.3,
    line_width: int = 2,
) -> np.ndarray:
    """Boxes scoring at least ``score_thr`` with ``"<class> <score>"`` captions; returns ``H x W x 3`` uint8."""
    img = _as_chw_uint8(image)
    boxes = torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4).cpu()
    scores = torch.as_tensor(scores, dtype=torch.float32).reshape(-1).cpu()
    labels = torch.as_tensor(labels, dtype=torch.int64).reshape(-1).cpu()
    if not len(boxes) == len(scores) == len(labels):
        raise ValueError(f"{len(boxes)} boxes, {len(scores)} scores and {len(labels)} labels: lengths differ")
    keep = scores >= score_thr
    boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
    if len(boxes) == 0:
        return img.permute(1, 2, 0).numpy().copy()
    h, w = img.shape[-2:]
    boxes[:, 0::2] = boxes[:, 0::2].clamp(0, w - 1)
    boxes[:, 1::2] = boxes[:, 1::2].clamp(0, h - 1)

    def name(i: int) -> str:
        return class_names[i] if class_names is not None and 0 <= i < len(class_names) else str(i)

    captions = [f"{name(int(c))} {float(s):.2f}" for c, s in zip(labels, scores)]
    colors = [_label_colour(int(c)) for c in labels]
    out = draw_bounding_boxes(img, boxes, labels=captions, colors=colors, width=line_width)
    return out.permute(1, 2, 0).numpy().copy()


def _label_colour(label: int) -> tuple[int, int, int]:
    rng = np.random.default_rng(label + 1)  # stable colour per class
    r, g, b = (int(v) for v in rng.integers(64, 256, size=3))
    return (r, g, b)


def draw_segmentation(
    image: np.ndarray | torch.Tensor,
    sem_seg: torch.Tensor | np.ndarray,
    palette: Palette | None = None,
    alpha: float = 0.5,
    ignore_index: int = 255,
) -> np.ndarray:
    """Blend the colour of each pixel's class over the image (``ignore_index`` pixels unchanged)."""
    img = _as_chw_uint8(image).permute(1, 2, 0).numpy()
    seg = torch.as_tensor(sem_seg).cpu().numpy().astype(np.int64)
    if seg.shape != img.shape[:2]:
        raise ValueError(f"label map {seg.shape} and image {img.shape[:2]} differ in size")
    pal = np.asarray(palette if palette is not None else CITYSCAPES_PALETTE, dtype=np.float32)
    valid = (seg != ignore_index) & (seg >= 0) & (seg < len(pal))
    out = img.astype(np.float32)
    out[valid] = (1 - alpha) * out[valid] + alpha * pal[seg[valid]]
    return out.round().clip(0, 255).astype(np.uint8)


def draw_sample(
    sample: dict[str, Any],
    image: np.ndarray | None = None,
    dataset_meta: dict | None = None,
    score_thr: float = 0.3,
    alpha: float = 0.5,
) -> np.ndarray | None:
    """Draw one predicted sample on its original image (read from ``img_path`` unless ``image`` is given).

    Returns ``None`` for samples that hold neither detection nor segmentation predictions.
    """
    meta = dataset_meta or {}
    if "pred_boxes" not in sample and "pred_sem_seg" not in sample:
        return None
    if image is None:
        if "img_path" not in sample:
            raise KeyError("sample has no 'img_path' to draw on (and no image was given)")
        image = read_image(sample["img_path"])
    if "pred_sem_seg" in sample:
        image = draw_segmentation(image, sample["pred_sem_seg"], meta.get("palette"), alpha=alpha)
    if "pred_boxes" in sample:
        image = draw_detections(
            image, sample["pred_boxes"], sample["pred_scores"], sample["pred_labels"],
            class_names=meta.get("classes"), score_thr=score_thr,
        )
    return image
