"""Calibration images for int8 post-training quantization: the config's own data through its test pipeline.

``source`` is a split of the config (``"train"``, ``"val"``, ``"test"``: that dataloader's dataset, with the *test*
pipeline — the images the deployed model sees, without training augmentation) or a folder of images (searched
recursively). ``count`` images are drawn at random (seeded) from it. Each comes back as the exported graph's input:
float32 ``[1, 3, H, W]`` RGB 0..255; an image whose test-pipeline size is not the program's ``H x W`` is resized to
it (bilinear) and counted in :attr:`CalibrationSet.resized`.

Calibrate on ``train`` (the default of ``tools/deploy/export_executorch.py``): calibrating on the split the program
is then evaluated on would flatter the int8 figures.
"""
from __future__ import annotations

import os.path as osp
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from torch import Tensor

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
SPLITS = ("train", "val", "test")


@dataclass
class CalibrationSet:
    """The images and where they came from (for the program's side-car JSON)."""

    images: list[Tensor]
    source: str
    names: list[str] = field(default_factory=list)
    resized: int = 0

    def describe(self) -> dict[str, Any]:
        return dict(source=self.source, images=len(self.images), resized_to_input=self.resized,
                    first=self.names[:3])


def _pipeline(cfg: Config, skip_loading: bool) -> list:
    from ..registry import TRANSFORMS

    steps = []
    for step in cfg.test_dataloader.dataset.get("pipeline", []):
        if skip_loading and isinstance(step, dict) and step.get("type") == "LoadImageFromFile":
            continue
        steps.append(TRANSFORMS.build(step) if isinstance(step, dict) else step)
    return steps


def _as_input(packed: dict[str, Any], shape: tuple[int, int]) -> tuple[Tensor, bool]:
    img = packed["inputs"]
    img = torch.as_tensor(img).float()[None]
    if tuple(img.shape[-2:]) == tuple(shape):
        return img.contiguous(), False
    return F.interpolate(img, size=shape, mode="bilinear", align_corners=False).clamp(0, 255), True


def _from_split(cfg: Config, split: str) -> Any:
    import densenets.datasets  # noqa: F401  (registers datasets and transforms)

    from ..registry import DATASETS

    loader = cfg.get(f"{split}_dataloader")
    if not loader:
        raise ValueError(f"the config has no {split}_dataloader to calibrate on")
    ds_cfg = dict(loader["dataset"])
    ds_cfg["pipeline"] = cfg.test_dataloader.dataset.get("pipeline", [])
    ds_cfg["test_mode"] = True
    try:
        return DATASETS.build(ds_cfg)
    except TypeError:  # a dataset class without test_mode
        ds_cfg.pop("test_mode")
        return DATASETS.build(ds_cfg)


def calibration_set(cfg: Config, source: str, count: int, shape: tuple[int, int], seed: int = 0) -> CalibrationSet:
    """``count`` calibration inputs of size ``shape`` from a split of ``cfg`` or a folder (see module docstring)."""
    if count < 1:
        raise ValueError(f"--calib-images must be >= 1, got {count}")
    rng = np.random.default_rng(seed)
    images, names, resized = [], [], 0
    if source in SPLITS:
        dataset = _from_split(cfg, source)
        if len(dataset) == 0:
            raise ValueError(f"the {source} split of the config holds no images to calibrate on")
        for idx in rng.permutation(len(dataset))[:count].tolist():
            packed = dataset[idx]
            img, was_resized = _as_input(packed, shape)
            images.append(img)
            sample = packed.get("data_samples") or {}
            names.append(osp.basename(str(sample.get("img_path", idx)) if isinstance(sample, dict) else str(idx)))
            resized += was_resized
        return CalibrationSet(images, f"{source} split of the config", names, resized)
    if not osp.isdir(source):
        raise FileNotFoundError(f"--calib-data {source}: neither a split ({', '.join(SPLITS)}) nor a folder")
    import densenets.datasets  # noqa: F401

    from ..datasets.image_io import load_rgb

    files = sorted(str(p) for p in Path(source).rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"--calib-data {source}: no images ({', '.join(IMAGE_SUFFIXES)}) in the folder")
    steps = _pipeline(cfg, skip_loading=True)
    for idx in rng.permutation(len(files))[:count].tolist():
        image = load_rgb(files[idx])
        hw = tuple(image.shape[:2])
        results: dict[str, Any] = dict(img=image, img_path=files[idx], ori_shape=hw, img_shape=hw, flip=False)
        for step in steps:
            results = step(results)
        if "inputs" not in results:
            results = dict(inputs=torch.from_numpy(np.ascontiguousarray(results["img"])).permute(2, 0, 1))
        img, was_resized = _as_input(results, shape)
        images.append(img)
        names.append(osp.basename(files[idx]))
        resized += was_resized
    return CalibrationSet(images, f"folder {source}", names, resized)
