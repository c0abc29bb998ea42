"""Lite Reduced Atrous Spatial Pyramid Pooling (LR-ASPP) segmentation head, MobileNetV3 §6.4 / Figure 10.

Layer placement follows TF DeepLab (``model.py``: ``extract_features`` with ``aspp_with_squeeze_and_excitation=1``,
``aspp_with_concat_projection=0``, ``image_se_uses_qsigmoid=1``; ``refine_by_decoder`` with
``decoder_use_sum_merge=1``, ``decoder_output_is_logits=1``, ``decoder_output_stride=8``):

* ``branch``  1x1 conv F (no bias) + BN + ReLU on the OS-16 feature (TF ``aspp0``);
* ``gate``    avg pool (kernel K, stride S, 'VALID') -> 1x1 conv F **with bias, no BN** -> hard-sigmoid (TF
  ``q_sigmoid``) -> bilinear resize back to the OS-16 size (TF ``image_pooling``); ``branch * gate``;
* the product is resized bilinearly to the OS-8 (low-level) size and goes through a 1x1 conv to classes (bias);
  the low-level feature goes through its own 1x1 conv to classes (bias); the two are summed (TF
  ``decoder_conv0`` + ``feature_projection0``, both linear with bias).

There is no dropout in LR-ASPP (TF applies its 0.9-keep dropout only after the concat projection, which LR-ASPP
turns off).

Pooling kernel. TF pools with a fixed ``image_pooling_crop_size / output_stride`` kernel (769 crops -> 49x49) and
stride ``image_pooling_stride`` (4, 5) in 'VALID' mode. TF never sees a feature map smaller than the kernel because
DeepLab pads every image up to the fixed crop size first (training crops 769x769 -> a 49x49 map, so training-time
pooling is global; evaluation 1025x2049 -> 65x129 -> a 5x17 gate); a smaller map would be a TF shape error.
Here the kernel is clipped to the map in each dimension, which is exactly global pooling along that dimension, so
small demo images and odd sizes work. ``pool_kernel=None`` gives global pooling (torchvision's ``LRASPPHead``).

torchvision compatibility: ``gate_act="sigmoid"``, ``gate_bias=False``, ``pool_kernel=None`` reproduce
torchvision's ``LRASPPHead`` exactly (same parameters, same outputs; see ``load_torchvision_state_dict``).
"""
from __future__ import annotations

from typing import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..feature_spec import FeatureSpec
from ..layers import ConvBNAct

_GATE_ACTS = {"hardsigmoid": nn.Hardsigmoid, "sigmoid": nn.Sigmoid}


def _pair(value: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    if isinstance(value, int):
        return (value, value)
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f"expected an int or a pair of ints, got {value!r}")
    return value  # type: ignore[return-value]


def _window_matrix(size: int, kernel: int, stride: int, like: Tensor) -> Tensor:
    """``(out, size)`` matrix whose row ``i`` averages the window ``[i*stride, i*stride + kernel)`` ('VALID')."""
    out = (size - kernel) // stride + 1
    start = torch.arange(out, device=like.device).unsqueeze(1) * stride
    index = torch.arange(size, device=like.device).unsqueeze(0)
    return ((index >= start) & (index < start + kernel)).to(like.dtype) / kernel


class LRASPPHead(nn.Module):
    """LR-ASPP head of MobileNetV3 (§6.4, Figure 10), built from the FeatureSpecs of its two inputs.

    Args:
        high: FeatureSpec of the last backbone feature (OS 16, or 32 for the non-atrous variant of Table 8).
        low: FeatureSpec of the low-level skip feature (OS 8).
        num_classes: number of output classes (19 for Cityscapes).
        channels: F, the width of the head (128 in the paper's main rows of Table 7).
        pool_kernel: gate pooling kernel on the high feature map; clipped to the map size; ``None`` = global pool.
            Default 49 = TF DeepLab's 769-pixel Cityscapes crops / 16.
        pool_stride: gate pooling stride (TF DeepLab Cityscapes: (4, 5); mmsegmentation uses (16, 20)).
        gate_act: ``"hardsigmoid"`` (TF ``q_sigmoid``, the paper's) or ``"sigmoid"`` (torchvision).
        gate_bias: bias on the gate's 1x1 conv (TF: yes, it has no BN; torchvision: no).
        align_corners: for both bilinear resizes (the gate back to the high size, the product to the low size).
            TF DeepLab resizes with ``align_corners=True`` on its 16k+1 sized maps; PyTorch code (and torchvision)
            uses even sizes and ``align_corners=False``, the default here.
        bn_eps, bn_momentum: BatchNorm of the F branch (TF DeepLab: decay 0.9997 -> momentum 3e-4, eps 1e-5).

    ``forward({"high": Tensor, "low": Tensor})`` returns logits at the low-level (OS 8) resolution.
    """

    in_keys = ("high", "low")

    def __init__(
        self,
        high: FeatureSpec,
        low: FeatureSpec,
        num_classes: int,
        channels: int = 128,
        pool_kernel: int | tuple[int, int] | None = 49,
        pool_stride: int | tuple[int, int] = (4, 5),
        gate_act: str = "hardsigmoid",
        gate_bias: bool = True,
        align_corners: bool = False,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
    ) -> None:
        super().__init__()
        if gate_act not in _GATE_ACTS:
            raise ValueError(f"gate_act must be one of {sorted(_GATE_ACTS)}, got {gate_act!r}")
        if high.stride < low.stride:
            raise ValueError(f"the high feature (stride {high.stride}) must be coarser than the low one ({low.stride})")
        self.pool_kernel = None if pool_kernel is None else _pair(pool_kernel)
        self.pool_stride = _pair(pool_stride)
        self.align_corners = align_corners
        self.num_classes = num_classes
        self.branch = ConvBNAct(high.channels, channels, 1, act=nn.ReLU, bn_eps=bn_eps, bn_momentum=bn_momentum)
        self.gate_conv = nn.Conv2d(high.channels, channels, 1, bias=gate_bias)
        self.gate_act = _GATE_ACTS[gate_act]()
        self.high_classifier = nn.Conv2d(channels, num_classes, 1)
        self.low_classifier = nn.Conv2d(low.channels, num_classes, 1)
        self.output_stride = low.stride

    def pool(self, x: Tensor) -> Tensor:
        """The gate's average pooling: kernel clipped to the map (global when ``pool_kernel`` is None).

        Same windows and values as ``F.avg_pool2d(x, kernel, stride)`` ('VALID'), computed as two products with
        window-averaging matrices: PyTorch's CPU ``avg_pool2d`` costs K*K additions per output, 50 ms for the
        49x49 gate of a 1024x2048 image on one core, the matrix form under 1 ms.
        """
        height, width = int(x.shape[-2]), int(x.shape[-1])
        if self.pool_kernel is None:
            return x.mean(dim=(2, 3), keepdim=True)
        kh, kw = min(self.pool_kernel[0], height), min(self.pool_kernel[1], width)
        if (kh, kw) == (height, width):
            return x.mean(dim=(2, 3), keepdim=True)
        rows = _window_matrix(height, kh, self.pool_stride[0], x)
        cols = _window_matrix(width, kw, self.pool_stride[1], x)
        return rows @ x @ cols.transpose(0, 1)

    def gate(self, high: Tensor) -> Tensor:
        """Hard-sigmoid gate at the pooled resolution (broadcast or resized by :meth:`forward`)."""
        return self.gate_act(self.gate_conv(self.pool(high)))

    def forward(self, features: Mapping[str, Tensor]) -> Tensor:
        high, low = features["high"], features["low"]
        x = self.branch(high)
        gate = self.gate(high)
        if gate.shape[-2:] != (1, 1):
            gate = F.interpolate(gate, size=x.shape[-2:], mode="bilinear", align_corners=self.align_corners)
        x = x * gate
        x = F.interpolate(x, size=low.shape[-2:], mode="bilinear", align_corners=self.align_corners)
        return self.high_classifier(x) + self.low_classifier(low)

    def load_torchvision_state_dict(self, state: Mapping[str, Tensor], strict: bool = True) -> None:
        """Load a ``torchvision.models.segmentation.lraspp.LRASPPHead`` state dict (``cbr``/``scale`` keys)."""
        renames = {"cbr.": "branch.", "scale.1.": "gate_conv."}
        mapped = {}
        for key, value in state.items():
            for old, new in renames.items():
                if key.startswith(old):
                    key = new + key[len(old) :]
                    break
            mapped[key] = value
        self.load_state_dict(mapped, strict=strict)
