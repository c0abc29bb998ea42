"""One training step (forward + loss + backward + SGD step) of a config's SSDLite against torchvision's
``ssdlite320_mobilenet_v3_large`` (``densenets.analysis.peers``), each through its own data path — ours:
ImagePreprocessor + matching + loss; torchvision: GeneralizedRCNNTransform + matching + loss — on the same random
batch of 320x320 uint8 images and boxes, timed in one interleaved loop (``densenets.analysis.timing``).

Ours is timed in TF's form (the config's network with 90 classes) and in torchvision's form (same network, torchvision
anchors and softmax with hard-negative mining: torchvision's architecture). Ratios are ours / torchvision.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
from mmengine.config import Config

from .peers import torchvision_ssdlite
from .bench_inputs import BenchmarkInputError
from .timing import time_interleaved
from .variants import SSD_SIZE, build_ssdlite

FORMS = {"rf2": "RF2 (TF form)", "tv_form": "torchvision form"}


def sample_targets(batch: int, seed: int = 0, size: int = SSD_SIZE, num_classes: int = 90
                   ) -> tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor]]:
    """``batch`` random uint8 images with 1-7 boxes each (xyxy pixels, 16-76 px) and contiguous labels."""
    g = torch.Generator().manual_seed(seed)
    images, boxes, labels = [], [], []
    for _ in range(batch):
        images.append(torch.randint(0, 256, (3, size, size), dtype=torch.uint8, generator=g))
        n = int(torch.randint(1, 8, (1,), generator=g))
        xy = torch.rand(n, 2, generator=g) * (size - 80)
        boxes.append(torch.cat([xy, xy + 16 + torch.rand(n, 2, generator=g) * 60], 1))
        labels.append(torch.randint(0, num_classes, (n,), generator=g))
    return images, boxes, labels


def train_step_benchmark(cfg: Config, runs: int, warmup: int, batch: int) -> dict[str, Any]:
    if cfg.model.get("type") != "SSDLite":
        raise BenchmarkInputError("train: the torchvision training-step peer exists for SSDLite configs only")
    images, boxes, labels = sample_targets(batch)
    torch.manual_seed(0)
    tv = torchvision_ssdlite().train()
    tv_opt = torch.optim.SGD(tv.parameters(), lr=1e-3, momentum=0.9, weight_decay=4e-5)
    tv_targets = [{"boxes": b, "labels": lab + 1} for b, lab in zip(boxes, labels)]

    def tv_step() -> None:
        losses = tv([im.float() / 255 for im in images], tv_targets)
        tv_opt.zero_grad(set_to_none=True)
        sum(losses.values()).backward()
        tv_opt.step()

    fns: dict[str, Callable[[], object]] = {"torchvision": tv_step}
    for form in FORMS:
        model = build_ssdlite(cfg, form).train()
        opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, weight_decay=4e-5)

        def step(model: torch.nn.Module = model, opt: torch.optim.Optimizer = opt) -> None:
            samples = [{"gt_boxes": b, "gt_labels": lab} for b, lab in zip(boxes, labels)]
            data = model.data_preprocessor({"inputs": images, "data_samples": samples}, True)
            losses = model(**data, mode="loss")
            opt.zero_grad(set_to_none=True)
            sum(losses.values()).backward()
            opt.step()

        fns[form] = step
    t = time_interleaved(fns, runs, warmup)
    return {"task": "ssdlite", "batch": batch, "shape": [SSD_SIZE, SSD_SIZE],
            "timings": {k: v.as_ms() for k, v in t.items()}}


def format_train_step(r: dict[str, Any]) -> str:
    t = r["timings"]
    tv = t["torchvision"]["median"]
    parts = [f"fwd+bwd+SGD, batch {r['batch']}, {r['shape'][0]}x{r['shape'][1]}: torchvision {tv:7.1f} ms"]
    parts += [f"ours {label} {t[form]['median']:7.1f} ms ratio {t[form]['median'] / tv:.3f}"
              for form, label in FORMS.items()]
    return " | ".join(parts)
