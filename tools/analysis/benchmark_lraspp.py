"""Benchmark LR-ASPP MobileNetV3-Large against torchvision's, in the same run (CPU, batch 1, eval mode).

Networks (``model(x, mode="tensor")`` / ``tv(x)["out"]``: logits upsampled to the input size, no preprocessing):

* ``ours``          the Table 7 row 8 config (``configs/lraspp_mbv3_large_cityscapes.py``): TF DeepLab's
                    segmentation tail (RF2 incl. bneck 13's expansion 672->336), OS 16, low feature = bneck 6's
                    depthwise output (120 ch), 49x49 / (4, 5) hard-sigmoid gate, F = 128;
* ``ours_tv_form``  our network in torchvision's exact form (same parameters and outputs as ``tv_rf2``; see
                    tests/models/segmentors/test_torchvision_parity.py): reduced tail "detection", low = bneck 4,
                    global sigmoid gate;
* ``tv_rf2``        torchvision ``LRASPP`` on ``mobilenet_v3_large(reduced_tail=True, dilated=True)`` (like for like);
* ``tv``            torchvision ``lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=19)``
                    (full 960-ch tail, dilated).

Figures are medians over ``--runs`` after ``--warmup`` runs, candidates interleaved round-robin so that load changes on
a shared machine hit every one alike; ratios are X / tv_rf2 (< 1: X is faster). The paper's Pixel-3 single-core
figures for row 8 are 2.47 s (1024x2048) and 657 ms (512x1024).

    OMP_NUM_THREADS=1 python tools/analysis/benchmark_lraspp.py [--runs 5] [--warmup 1] [--sizes 1024x2048 512x1024]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Callable

import torch
from mmengine.config import Config
from torch import nn
from torchvision.models.mobilenetv3 import mobilenet_v3_large
from torchvision.models.segmentation import lraspp_mobilenet_v3_large
from torchvision.models.segmentation.lraspp import _lraspp_mobilenetv3

from densenets.analysis import count_complexity
from densenets.models.segmentors import EncoderDecoder
from densenets.registry import MODELS

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "lraspp_mbv3_large_cityscapes.py"


def median_times(fns: dict[str, Callable[[], object]], runs: int, warmup: int) -> dict[str, float]:
    """Median seconds per call of each function, calls interleaved round-robin."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}


def build_models() -> dict[str, tuple[nn.Module, Callable[[nn.Module, torch.Tensor], object]]]:
    torch.manual_seed(0)
    ours = MODELS.build(Config.fromfile(str(CONFIG)).model)
    ours_tv_form = EncoderDecoder(
        dict(name="mobilenet_v3_large", reduced_tail="detection", output_stride=16, os8_tap="block4.out"),
        dict(type="LRASPPHead", num_classes=19, channels=128, pool_kernel=None, gate_act="sigmoid", gate_bias=False),
    )
    tv_rf2 = _lraspp_mobilenetv3(mobilenet_v3_large(reduced_tail=True, dilated=True), num_classes=19)
    tv = lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=19)

    def run_ours(m: nn.Module, x: torch.Tensor) -> object:
        return m(x, mode="tensor")

    def run_tv(m: nn.Module, x: torch.Tensor) -> object:
        return m(x)["out"]

    return {
        "ours": (ours.eval(), run_ours),
        "ours_tv_form": (ours_tv_form.eval(), run_ours),
        "tv_rf2": (tv_rf2.eval(), run_tv),
        "tv": (tv.eval(), run_tv),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per size (median reported)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sizes", nargs="+", default=["1024x2048", "512x1024"], help="HxW input sizes")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    models = build_models()
    print(f"CPU, {args.threads} thread(s), batch 1, eval mode, median of {args.runs} after {args.warmup} warm-up")
    for size in args.sizes:
        h, w = (int(v) for v in size.lower().split("x"))
        x = torch.randn(1, 3, h, w)
        fns = {name: (lambda m=m, run=run: run(m, x)) for name, (m, run) in models.items()}
        with torch.inference_mode():
            r = median_times(fns, args.runs, args.warmup)
        base = r["tv_rf2"]
        print(f"{h}x{w}:")
        for name, (model, run) in models.items():
            c = count_complexity(model, (h, w), forward=run)
            print(
                f"  {name:13s} {r[name] * 1e3:8.1f} ms  ratio {r[name] / base:.3f}  "
                f"params {c.params / 1e6:.3f}M  conv MAdds {c.madds / 1e9:.2f}B"
            )


if __name__ == "__main__":
    main()
