"""A tiny but real segmentation task for the engine/tool tests (test-only; never imported by the package).

``EngineTinySeg`` is a 3-layer conv net with BatchNorm that predicts a per-pixel class map;
``EngineTinyShapes`` draws a coloured square on a noisy background (label = the square's colour class), writes the
images as PNG files (so ``img_path`` exists for visualisation) and returns design.md's segmentation samples;
``EngineTinyIoU`` is a confusion-matrix mIoU that also reports how many samples it saw (to check the cross-rank
gather). Imported by the tests' conftest and, in subprocesses, through the config's ``custom_imports``.
"""
from __future__ import annotations

import json
import os
import os.path as osp
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from PIL import Image
from torch import nn
from torch.utils.data import Dataset

import densenets.models.data_preprocessor  # noqa: F401  (registers ImagePreprocessor)
from densenets.registry import DATASETS, HOOKS, METRICS, MODELS

NUM_CLASSES = 3
COLOURS = ((230, 40, 40), (40, 230, 40), (40, 40, 230))


@MODELS.register_module(force=True)
class EngineTinySeg(BaseModel):
    """Conv-BN-ReLU x2 -> 1x1 classifier; losses and predictions follow docs/design.md."""

    def __init__(self, width: int = 8, num_classes: int = NUM_CLASSES, data_preprocessor: dict | None = None):
        if data_preprocessor is None:
            data_preprocessor = dict(type="ImagePreprocessor")
        super().__init__(data_preprocessor=data_preprocessor)
        self.body = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, padding=1, groups=width, bias=False),  # depthwise
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
        )
        self.cls = nn.Conv2d(width, num_classes, 1)

    def forward(self, inputs: torch.Tensor, data_samples: Sequence[dict] | None = None, mode: str = "tensor") -> Any:
        logits = self.cls(self.body(inputs))
        if mode == "tensor":
            return logits
        if mode == "loss":
            target = torch.stack([s["gt_sem_seg"] for s in data_samples]).to(logits.device)
            return dict(loss_seg=F.cross_entropy(logits, target, ignore_index=255))
        if mode == "predict":
            out = []
            for logit, sample in zip(logits, data_samples):
                h, w = sample["img_shape"]
                pred = logit[:, :h, :w].argmax(0)
                out.append(dict(sample, pred_sem_seg=pred.cpu()))
            return out
        raise ValueError(f"unknown mode {mode!r}")


@DATASETS.register_module(force=True)
class EngineTinyShapes(Dataset):
    """``num_samples`` images of ``size`` x ``size`` with one coloured square; files written under ``data_root``."""

    METAINFO = dict(classes=("red", "green", "blue"), palette=[list(c) for c in COLOURS])

    def __init__(self, data_root: str, num_samples: int = 16, size: int = 16, seed: int = 0):
        self.metainfo = dict(self.METAINFO)
        self.items: list[tuple[str, np.ndarray]] = []
        rng = np.random.default_rng(seed)
        os.makedirs(data_root, exist_ok=True)
        for i in range(num_samples):
            label = int(rng.integers(NUM_CLASSES))
            img = rng.integers(0, 60, size=(size, size, 3), dtype=np.uint8)
            seg = np.zeros((size, size), dtype=np.int64)
            y, x = (int(v) for v in rng.integers(0, size // 2, size=2))
            s = size // 2
            img[y:y + s, x:x + s] = COLOURS[label]
            seg[y:y + s, x:x + s] = label
            path = osp.join(data_root, f"img_{seed}_{i:03d}.png")
            if not osp.exists(path):
                Image.fromarray(img).save(path)
            self.items.append((path, seg))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, idx: int) -> dict:
        path, seg = self.items[idx]
        img = torch.from_numpy(np.array(Image.open(path).convert("RGB"))).permute(2, 0, 1).contiguous()
        h, w = seg.shape
        sample = dict(img_path=path, ori_shape=(h, w), img_shape=(h, w), gt_sem_seg=torch.from_numpy(seg), flip=False)
        return dict(inputs=img, data_samples=sample)


@METRICS.register_module(force=True)
class EngineTinyIoU(BaseMetric):
    """mIoU over ``NUM_CLASSES`` classes plus the number of evaluated samples (after the cross-rank gather)."""

    default_prefix = "tiny"

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            gt = s["gt_sem_seg"].flatten().cpu()  # the preprocessor moved it to the model's device
            pred = s["pred_sem_seg"].flatten().cpu()
            keep = gt != 255
            cm = torch.bincount(gt[keep] * NUM_CLASSES + pred[keep], minlength=NUM_CLASSES**2)
            self.results.append(cm.reshape(NUM_CLASSES, NUM_CLASSES))

    def compute_metrics(self, results: list) -> dict:
        cm = torch.stack(results).sum(0).double()
        iou = cm.diag() / (cm.sum(0) + cm.sum(1) - cm.diag()).clamp(min=1)
        return dict(mIoU=float(iou.mean()) * 100, num_samples=len(results))


@HOOKS.register_module(force=True)
class EngineLossRecorder(Hook):
    """Appends ``[iteration, loss]`` of every training iteration to ``<work_dir>/losses_rank<r>.jsonl``."""

    priority = "LOWEST"

    def after_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        path = osp.join(runner.work_dir, f"losses_rank{runner.rank}.jsonl")
        with open(path, "a") as f:
            f.write(json.dumps([runner.iter, outputs["loss"].item()]) + "\n")


@HOOKS.register_module(force=True)
class EngineCrashAt(Hook):
    """Raises after training iteration ``at`` (1-based) completed and its hooks ran: a simulated crash."""

    priority = "LOWEST"

    def __init__(self, at: int) -> None:
        self.at = at

    def after_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        if runner.iter + 1 == self.at:
            raise KeyboardInterrupt(f"simulated crash after iteration {self.at}")
