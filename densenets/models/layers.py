"""Layers shared by the backbones, necks and heads (plain Python, no registries): the one copy of each."""
from __future__ import annotations

from typing import Callable

from torch import Tensor, nn


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round ``value`` to a multiple of ``divisor``, never below 90% of it (MobileNetV2 reference code)."""
    min_value = divisor if min_value is None else min_value
    new = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new


class ConvBNAct(nn.Sequential):
    """``Conv2d(bias=False) -> BatchNorm2d -> activation`` with 'same' padding (``dilation * (k - 1) // 2``).

    ``act=None`` gives a linear conv + BN (the projection of an inverted residual).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        groups: int = 1,
        dilation: int = 1,
        act: Callable[..., nn.Module] | None = nn.ReLU,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
    ) -> None:
        padding = (kernel_size - 1) // 2 * dilation
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation, groups=groups, bias=False),
            nn.BatchNorm2d(out_channels, eps=bn_eps, momentum=bn_momentum),
        ]
        if act is not None:
            layers.append(act(inplace=True) if _takes_inplace(act) else act())
        super().__init__(*layers)
        self.out_channels = out_channels


def _takes_inplace(act: Callable[..., nn.Module]) -> bool:
    return act in (nn.ReLU, nn.ReLU6, nn.Hardswish, nn.Hardsigmoid, nn.SiLU)


class SqueezeExcite(nn.Module):
    """MobileNetV3 §5.3 squeeze-and-excite: avg pool -> 1x1 -> ReLU -> 1x1 -> hard-sigmoid gate."""

    def __init__(self, channels: int, squeeze_channels: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze_channels, 1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(squeeze_channels, channels, 1)
        self.gate = nn.Hardsigmoid(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        scale = self.gate(self.fc2(self.relu(self.fc1(self.avgpool(x)))))
        return x * scale


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    """ShuffleNet §3.1 channel shuffle: reshape channels to ``(groups, n)``, transpose, flatten."""
    b, c, h, w = x.shape
    return x.reshape(b, groups, c // groups, h, w).transpose(1, 2).reshape(b, c, h, w)


def init_weights(module: nn.Module) -> None:
    """torchvision's initialisation of the mobile classification networks (kaiming fan-out, BN 1/0, linear N(0, .01))."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)


__all__ = ["make_divisible", "ConvBNAct", "SqueezeExcite", "channel_shuffle", "init_weights"]
