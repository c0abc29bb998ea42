"""Batch preparation on the device: stack (with padding), float conversion and normalisation.

Images arrive as uint8 ``3 x H x W`` tensors (see docs/design.md); moving uint8 to the device and normalising there
is 4x less host-to-device traffic than shipping float32.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor

from ..registry import MODELS


@MODELS.register_module()
class ImagePreprocessor(BaseDataPreprocessor):
    """Pad a list of images to a common size (a multiple of ``size_divisor``), stack and normalise.

    ``mean``/``std`` are per-channel in 0..255 units; SSDLite's [-1, 1] scaling is ``mean=std=127.5``.
    ``pad_value`` is applied in pixel units before normalisation: one value, or one per channel (``pad_value=mean``
    pads with zeros after normalisation, as torchvision's detection transform does). Segmentation label maps
    (``gt_sem_seg``) are padded with ``seg_pad_value`` (the ignore label) to the same size.
    """

    def __init__(
        self,
        mean: Sequence[float] = (127.5, 127.5, 127.5),
        std: Sequence[float] = (127.5, 127.5, 127.5),
        size_divisor: int = 1,
        pad_value: float | Sequence[float] = 0.0,
        seg_pad_value: int = 255,
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(-1, 1, 1), persistent=False)
        self.size_divisor = size_divisor
        self.pad_value = pad_value
        self.seg_pad_value = seg_pad_value
        self.channels_last = channels_last

    def _padded_size(self, shapes: list[tuple[int, int]]) -> tuple[int, int]:
        h = max(s[0] for s in shapes)
        w = max(s[1] for s in shapes)
        d = self.size_divisor
        return (-(-h // d) * d, -(-w // d) * d)

    def forward(self, data: dict, training: bool = False) -> dict[str, Any]:
        data = self.cast_data(data)
        inputs = data["inputs"]
        samples = data.get("data_samples")
        if isinstance(inputs, torch.Tensor) and inputs.dim() == 4:
            batch = inputs
            if batch.dtype == torch.uint8 or not torch.is_floating_point(batch):
                batch = batch.float()
            batch = (batch - self.mean) / self.std
        else:
            ph, pw = self._padded_size([tuple(img.shape[-2:]) for img in inputs])
            batch = inputs[0].new_empty((len(inputs), 3, ph, pw), dtype=torch.float32)
            for i, img in enumerate(inputs):
                h, w = img.shape[-2:]
                if (h, w) != (ph, pw):  # the padding colour (one value or one per channel), normalised
                    fill = torch.as_tensor(self.pad_value, dtype=torch.float32, device=batch.device)
                    batch[i] = (fill.expand(3).view(-1, 1, 1) - self.mean) / self.std
                # (img - mean) / std, computed in place in the batch: the same float32 operations, no temporaries
                region = batch[i, :, :h, :w]
                region.copy_(img)
                region.sub_(self.mean).div_(self.std)
            if samples is not None:
                for img, s in zip(inputs, samples):
                    if isinstance(s, dict):
                        s["batch_input_shape"] = (ph, pw)
                        seg = s.get("gt_sem_seg")
                        # only label maps of their image's size are padded with it; one kept at the original size
                        # by a test-time resize (evaluated at full resolution) is left alone
                        own_size = isinstance(seg, torch.Tensor) and tuple(seg.shape[-2:]) == tuple(img.shape[-2:])
                        if own_size and tuple(seg.shape[-2:]) != (ph, pw):
                            h, w = seg.shape[-2:]
                            s["gt_sem_seg"] = F.pad(seg, (0, pw - w, 0, ph - h), value=self.seg_pad_value)
        if self.channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        return {"inputs": batch, "data_samples": samples}
