"""SSD anchors ("default boxes") for SSDLite, in the two layouts users meet in practice.

``layout="tf"`` (default) is the TF Object Detection API ``ssd_anchor_generator`` used by the MobileNetV2 §6.2 /
MobileNetV3 §6.3 SSDLite models: ``num_layers`` scales linearly spaced in ``[min_scale, max_scale]`` (0.2 ... 0.95),
aspect ratios ``{1, 2, 1/2, 3, 1/3}`` plus one extra square box at ``sqrt(s_k * s_{k+1})`` (``s_{K} = 1``), and a
lowest layer reduced to 3 boxes: ``0.1 @ 1``, ``s_0 @ 2``, ``s_0 @ 1/2``. Box centres sit at cell centres
``(i + 0.5) / grid``; boxes are square in pixels relative to the shorter image side (TF's ``base_anchor_size``
correction for non-square inputs) and are not clipped. Within a cell the order is TF's (the list above).

``layout="torchvision"`` is torchvision's ``DefaultBoxGenerator([[2, 3]] * 6, min_ratio=0.2, max_ratio=0.95)`` as
used by ``ssdlite320_mobilenet_v3_large`` (6 boxes everywhere, widths/heights clipped to the image); it is wrapped,
not re-implemented, so it is that layout exactly.

Anchors are returned as normalised ``xyxy`` (fractions of the network input) and cached per feature-map sizes;
:meth:`SSDAnchorGenerator.pixel_anchors` scales them to the input in pixels.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor
from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
from torchvision.models.detection.image_list import ImageList

TF_ASPECT_RATIOS: tuple[float, ...] = (1.0, 2.0, 0.5, 3.0, 1.0 / 3.0)


def tf_box_specs(
    num_layers: int = 6,
    min_scale: float = 0.2,
    max_scale: float = 0.95,
    aspect_ratios: Sequence[float] = TF_ASPECT_RATIOS,
    interpolated_scale_aspect_ratio: float = 1.0,
    reduce_boxes_in_lowest_layer: bool = True,
) -> list[list[tuple[float, float]]]:
    """``(scale, aspect_ratio)`` of every box of every layer, in TF's order (``ssd_anchor_generator.py``)."""
    if num_layers < 1:
        raise ValueError(f"num_layers must be >= 1, got {num_layers}")
    if num_layers == 1:
        scales = [min_scale]
    else:
        scales = [min_scale + (max_scale - min_scale) * i / (num_layers - 1) for i in range(num_layers)]
    scales = scales + [1.0]
    specs: list[list[tuple[float, float]]] = []
    for layer, (scale, next_scale) in enumerate(zip(scales[:-1], scales[1:])):
        if layer == 0 and reduce_boxes_in_lowest_layer:
            specs.append([(0.1, 1.0), (scale, 2.0), (scale, 0.5)])
            continue
        layer_specs = [(scale, ar) for ar in aspect_ratios]
        if interpolated_scale_aspect_ratio > 0.0:
            layer_specs.append((math.sqrt(scale * next_scale), interpolated_scale_aspect_ratio))
        specs.append(layer_specs)
    return specs


class SSDAnchorGenerator:
    """Anchors of an SSD head with ``num_layers`` feature maps (see the module docstring for the two layouts).

    Plain Python object (no parameters): ``num_anchors_per_location()`` sizes the head, ``anchors(grid_sizes,
    image_size)`` gives normalised ``xyxy`` anchors, ordered ``(layer, y, x, box)`` like the head's outputs.
    """

    def __init__(
        self,
        layout: str = "tf",
        num_layers: int = 6,
        min_scale: float = 0.2,
        max_scale: float = 0.95,
        aspect_ratios: Sequence[float] = TF_ASPECT_RATIOS,
        reduce_boxes_in_lowest_layer: bool = True,
    ) -> None:
        if layout not in ("tf", "torchvision"):
            raise ValueError(f"anchor layout must be 'tf' or 'torchvision', got {layout!r}")
        self.layout = layout
        self.num_layers = num_layers
        if layout == "tf":
            self.box_specs = tf_box_specs(
                num_layers, min_scale, max_scale, aspect_ratios, 1.0, reduce_boxes_in_lowest_layer
            )
            self._tv: DefaultBoxGenerator | None = None
        else:
            self.box_specs = []
            ratios = [[2, 3] for _ in range(num_layers)]
            self._tv = DefaultBoxGenerator(ratios, min_ratio=min_scale, max_ratio=max_scale)
        self._cache: dict[tuple, Tensor] = {}

    def num_anchors_per_location(self) -> list[int]:
        if self._tv is not None:
            return self._tv.num_anchors_per_location()
        return [len(s) for s in self.box_specs]

    def anchors(self, grid_sizes: Sequence[tuple[int, int]], image_size: tuple[int, int]) -> Tensor:
        """Normalised ``xyxy`` anchors (float32, CPU) for feature maps of ``grid_sizes`` on an ``image_size`` input."""
        grid_sizes = tuple((int(h), int(w)) for h, w in grid_sizes)
        image_size = (int(image_size[0]), int(image_size[1]))
        if len(grid_sizes) != self.num_layers:
            raise ValueError(f"{self.num_layers} anchor layers but {len(grid_sizes)} feature maps")
        key = (grid_sizes, image_size)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._tf(grid_sizes, image_size) if self._tv is None else self._torchvision(grid_sizes, image_size)
            if len(self._cache) > 32:  # multi-scale inference: keep the cache small
                self._cache.clear()
            self._cache[key] = cached
        return cached

    def pixel_anchors(
        self, grid_sizes: Sequence[tuple[int, int]], image_size: tuple[int, int], device: torch.device | str = "cpu"
    ) -> Tensor:
        """Anchors in input pixels (``xyxy``) on ``device``; cached too, so repeated calls cost nothing."""
        key = ("px", tuple((int(h), int(w)) for h, w in grid_sizes), tuple(image_size), str(device))
        cached = self._cache.get(key)
        if cached is None:
            h, w = image_size
            norm = self.anchors(grid_sizes, image_size)
            cached = (norm * norm.new_tensor([w, h, w, h])).to(device)
            self._cache[key] = cached
        return cached

    def _tf(self, grid_sizes: tuple[tuple[int, int], ...], image_size: tuple[int, int]) -> Tensor:
        h_img, w_img = image_size
        min_side = min(h_img, w_img)
        base_h, base_w = min_side / h_img, min_side / w_img
        out = []
        for (gh, gw), specs in zip(grid_sizes, self.box_specs):
            scales = torch.tensor([s for s, _ in specs], dtype=torch.float64)
            ratios = torch.tensor([r for _, r in specs], dtype=torch.float64).sqrt()
            bw = scales * ratios * base_w
            bh = scales / ratios * base_h
            cy = (torch.arange(gh, dtype=torch.float64) + 0.5) / gh
            cx = (torch.arange(gw, dtype=torch.float64) + 0.5) / gw
            cy, cx = torch.meshgrid(cy, cx, indexing="ij")  # (gh, gw)
            cx = cx[..., None].expand(gh, gw, len(specs))
            cy = cy[..., None].expand(gh, gw, len(specs))
            boxes = torch.stack((cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2), dim=-1)
            out.append(boxes.reshape(-1, 4))
        return torch.cat(out).float()

    def _torchvision(self, grid_sizes: tuple[tuple[int, int], ...], image_size: tuple[int, int]) -> Tensor:
        assert self._tv is not None
        h, w = image_size
        images = ImageList(torch.empty(1, 3, h, w), [(h, w)])
        features = [torch.empty(1, 1, gh, gw) for gh, gw in grid_sizes]
        boxes = self._tv(images, features)[0]
        return boxes / boxes.new_tensor([w, h, w, h])
