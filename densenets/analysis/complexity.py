"""Parameters and multiply-adds, the papers' convention.

MAdds = multiply-adds of convolution and fully-connected layers only (BN, activations, pooling, element-wise ops
are not counted), as in MobileNetV1 §3.2 / MobileNetV2 Table 4 / MobileNetV3 Table 3. Counted by forward hooks on
one real forward pass, so dilation, groups, padding and every spatial size are exactly the model's.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn


@dataclass
class Complexity:
    params: int
    madds: int
    parts: "OrderedDict[str, tuple[int, int]]" = field(default_factory=OrderedDict)  # name -> (params, madds)

    def as_dict(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "madds": self.madds,
            "parts": {k: {"params": p, "madds": m} for k, (p, m) in self.parts.items()},
        }


# The input is one image, so every sample a layer sees belongs to it: a layer's leading dimension is 1 for the
# image's own layers but the number of RoIs in a two-stage detector's box head — count all of them.
def _conv_madds(module: nn.Conv2d | nn.ConvTranspose2d, inp: torch.Tensor, out: torch.Tensor) -> int:
    kh, kw = module.kernel_size
    if isinstance(module, nn.ConvTranspose2d):
        # every input element is multiplied into k*k*out/groups outputs
        return inp[0].numel() * kh * kw * module.out_channels // module.groups
    per_output = module.in_channels // module.groups * kh * kw
    return out.numel() * per_output


def _linear_madds(module: nn.Linear, inp: torch.Tensor, out: torch.Tensor) -> int:
    return out.numel() * module.in_features


def count_complexity(
    model: nn.Module,
    shape: tuple[int, int] = (224, 224),
    forward: Callable[[nn.Module, torch.Tensor], Any] | None = None,
    parts: list[str] | None = None,
    elementwise: bool = False,
) -> Complexity:
    """Count params and per-image MAdds of ``model`` on a ``1 x 3 x H x W`` input.

    ``forward(model, x)`` runs the network (default: ``model(x, mode="tensor")`` for mmengine models, else
    ``model(x)``). ``parts`` names top-level children reported separately (default: all direct children that
    hold parameters).

    ``elementwise=True`` adds MobileNetV3's element-wise multiplies: 2 per h-swish output element
    (``x * relu6(x + 3) * 1/6``) and 1 per output element of a squeeze-and-excite scaling. The classification
    figures of MobileNetV3 Table 3 are conv + FC only; its segmentation figures (Table 7/8, TF DeepLab's profile at
    the 1025 x 2049 evaluation size) are reproduced only with these included (docs/notes/segmentation-models.md).
    """
    from ..models.layers import SqueezeExcite

    counts: dict[nn.Module, int] = {}
    hooks = []

    def hook(mod: nn.Module, inp: tuple, out: torch.Tensor) -> None:
        if isinstance(mod, nn.Hardswish):
            n = 2 * out.numel()
        elif isinstance(mod, SqueezeExcite):
            n = out.numel()
        elif isinstance(mod, nn.Linear):
            n = _linear_madds(mod, inp, out)
        else:
            n = _conv_madds(mod, inp, out)
        counts[mod] = counts.get(mod, 0) + n

    counted: tuple[type, ...] = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)
    if elementwise:
        counted += (nn.Hardswish, SqueezeExcite)
    for m in model.modules():
        if isinstance(m, counted):
            hooks.append(m.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        x = torch.zeros(1, 3, *shape, device=device)  # the meta device counts shapes without arithmetic
        with torch.no_grad():
            if forward is not None:
                forward(model, x)
            else:
                from mmengine.model import BaseModel

                if isinstance(model, BaseModel):
                    model(x, mode="tensor")
                else:
                    model(x)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)

    total_params = sum(p.numel() for p in model.parameters())
    report: "OrderedDict[str, tuple[int, int]]" = OrderedDict()
    children = dict(model.named_children())
    names = parts if parts is not None else [n for n, c in children.items() if any(True for _ in c.parameters())]
    for name in names:
        child = children[name]
        params = sum(p.numel() for p in child.parameters())
        madds = sum(counts.get(m, 0) for m in child.modules())
        report[name] = (params, madds)
    return Complexity(total_params, sum(counts.values()), report)
