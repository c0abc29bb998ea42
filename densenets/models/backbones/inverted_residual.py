"""The inverted-residual block of MobileNetV2 §3.3 / Table 1, also the MobileNetV3 "bneck" (§5, with
squeeze-and-excite and h-swish), and :class:`BlockRow`, the architecture row it is built from.

Tap points ``expand`` (after the 1x1 expansion's BN + act; absent when the block has no expansion), ``depthwise``
(after the depthwise conv's BN + act, before SE — TF's ``depthwise_output``) and ``out``.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

from torch import Tensor, nn

from ..layers import ConvBNAct, SqueezeExcite


class BlockRow(NamedTuple):
    """One inverted-residual block after width, reduced tail and output stride are applied."""

    in_channels: int
    kernel: int
    exp: int
    out: int
    se: int | None  # squeeze channels of the SE module, None without SE
    act: str  # "RE" (ReLU / ReLU6 for V2), "HS" (h-swish)
    stride: int
    dilation: int


class InvertedResidual(nn.Module):
    """MobileNetV2 §3.3 inverted residual / MobileNetV3 §5 bneck.

    1x1 expansion + BN + act (skipped when ``exp_channels == in_channels``) → kxk depthwise (stride, dilation) + BN +
    act → optional SE (V3 §5.3) → linear 1x1 projection + BN. Residual only for stride 1 and ``in == out``.
    """

    def __init__(
        self,
        in_channels: int,
        exp_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        dilation: int = 1,
        act: Callable[..., nn.Module] = nn.ReLU6,
        se_channels: int | None = None,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
    ) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"InvertedResidual stride must be 1 or 2, got {stride}")
        bn = dict(bn_eps=bn_eps, bn_momentum=bn_momentum)
        has_expand = exp_channels != in_channels
        self.tap_points: tuple[str, ...] = ("expand", "depthwise", "out") if has_expand else ("depthwise", "out")
        self.expand = ConvBNAct(in_channels, exp_channels, 1, act=act, **bn) if has_expand else None
        self.depthwise = ConvBNAct(
            exp_channels, exp_channels, kernel_size, stride, groups=exp_channels, dilation=dilation, act=act, **bn
        )
        self.se = SqueezeExcite(exp_channels, se_channels) if se_channels else None
        self.project = ConvBNAct(exp_channels, out_channels, 1, act=None, **bn)
        self.use_residual = stride == 1 and in_channels == out_channels
        self.in_channels, self.exp_channels, self.out_channels = in_channels, exp_channels, out_channels

    @classmethod
    def from_row(
        cls, row: BlockRow, act: Callable[..., nn.Module], bn_eps: float, bn_momentum: float
    ) -> "InvertedResidual":
        """The block of one architecture row (``act`` is the module class of ``row.act``)."""
        return cls(row.in_channels, row.exp, row.out, kernel_size=row.kernel, stride=row.stride,
                   dilation=row.dilation, act=act, se_channels=row.se, bn_eps=bn_eps, bn_momentum=bn_momentum)

    def _tail(self, y: Tensor) -> Tensor:
        if self.se is not None:
            y = self.se(y)
        return self.project(y)

    def forward(self, x: Tensor) -> Tensor:
        y = self.expand(x) if self.expand is not None else x
        y = self._tail(self.depthwise(y))
        return x + y if self.use_residual else y

    def forward_taps(self, x: Tensor, points: frozenset[str]) -> tuple[Tensor, dict[str, Tensor]]:
        inner: dict[str, Tensor] = {}
        y = x
        if self.expand is not None:
            y = self.expand(y)
            inner["expand"] = y
        y = self.depthwise(y)
        inner["depthwise"] = y
        y = self._tail(y)
        return (x + y if self.use_residual else y), inner

    def forward_from(self, point: str, x: Tensor) -> Tensor:
        if point == "out":
            return x
        if point not in self.tap_points:
            raise ValueError(f"this block has no tap point {point!r} (points: {self.tap_points})")
        if self.use_residual:
            raise ValueError(f"cannot resume a residual block from {point!r}: the shortcut needs the block input")
        if point == "expand":
            x = self.depthwise(x)
        return self._tail(x)


__all__ = ["BlockRow", "InvertedResidual"]
