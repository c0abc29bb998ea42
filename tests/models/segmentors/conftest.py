"""Fixtures of the segmentor tests: a tiny stand-in backbone with OS-8 / OS-16 taps (fast, no paper widths)."""
from __future__ import annotations

import pytest
import torch
from densenets.models.backbones.base import Backbone
from densenets.models.layers import ConvBNAct
from densenets.models.feature_spec import FeatureSpec


class TinyBackbone(Backbone):
    """stem (OS 2) -> s4 -> s8 (alias OS8) -> s16 -> final (alias C5, OS 16) -> unused (OS 16)."""

    def __init__(self, out_taps: tuple[str, ...] = ("C5",)) -> None:
        super().__init__()
        channels = [(3, 8, 2), (8, 12, 2), (12, 16, 2), (16, 24, 2), (24, 32, 1), (32, 40, 1)]
        names = ["stem", "s4", "s8", "s16", "final", "unused"]
        stride = 1
        for name, (cin, cout, s) in zip(names, channels):
            stride *= s
            self.add_unit(name, ConvBNAct(cin, cout, 3, s), {"out": FeatureSpec(cout, stride)})
        self.add_alias("OS8", "s8")
        self.add_alias("C5", "final")
        self.set_out_taps(out_taps)


@pytest.fixture
def tiny_backbone() -> TinyBackbone:
    torch.manual_seed(0)
    return TinyBackbone()


def _seg_batch(n: int = 2, h: int = 37, w: int = 53, num_classes: int = 5, seed: int = 0) -> dict:
    """A pseudo-collated batch as the dataset + collate hand it to the data preprocessor (uint8 images of different
    sizes, labels with an ignored top quarter)."""
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for i in range(n):
        hi, wi = h - 3 * i, w - 5 * i  # different sizes: the preprocessor pads
        inputs.append(torch.randint(0, 256, (3, hi, wi), generator=gen, dtype=torch.uint8))
        seg = torch.randint(0, num_classes, (hi, wi), generator=gen)
        seg[: hi // 4] = 255
        samples.append(dict(img_path=f"img{i}.png", ori_shape=(hi, wi), img_shape=(hi, wi), gt_sem_seg=seg, flip=False))
    return dict(inputs=inputs, data_samples=samples)


@pytest.fixture
def seg_batch():
    """Factory of pseudo-collated segmentation batches: ``seg_batch(n, h, w, num_classes, seed)``."""
    return _seg_batch
