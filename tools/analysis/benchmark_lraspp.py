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

Figures are medians of wall time and of process CPU time over ``--runs`` after ``--warmup`` runs; every round runs all
candidates in a new random order, so that load changes on a shared machine hit every one alike; ratios are X / tv_rf2
(< 1: X is faster). ``ours_tv_form`` gets ``tv_rf2``'s weights, so that pair computes identical numbers. The paper's
Pixel-3 single-core figures for row 8 are 2.47 s (1024x2048) and 657 ms (512x1024).

    OMP_NUM_THREADS=1 python tools/analysis/benchmark_lraspp.py [--runs 5] [--warmup 1] [--sizes 1024x2048 512x1024]

``--table7`` prints instead the params and MAdds of every Table 7 / Table 8 config next to the paper's (no timing):
conv-only MAdds (the project's convention) at 1024x2048 and at TF DeepLab's evaluation size 1025x2049, and the
paper's apparent convention (1025x2049, plus 2 multiplies per h-swish element and 1 per SE-scaled element).
"""
from __future__ import annotations

import argparse
import random
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
from densenets.models.backbones.torchvision_weights import mobilenet_v3_keys
from densenets.models.segmentors import EncoderDecoder
from densenets.registry import MODELS

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "lraspp_mbv3_large_cityscapes.py"


def timings(
    fns: dict[str, Callable[[], object]], runs: int, warmup: int, seed: int = 0
) -> dict[str, tuple[list[float], list[float]]]:
    """(wall seconds, process CPU seconds) per call of each function. Every round calls all of them in a new random
    order, so that load changes on a shared machine and the allocator state left by the previous call hit every
    candidate alike. With one thread the CPU time is the wall time minus the waits for a core: the robust figure on
    a busy machine."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    rng = random.Random(seed)
    times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in fns}
    for _ in range(runs):
        order = list(fns)
        rng.shuffle(order)
        for name in order:
            w0, c0 = time.perf_counter(), time.process_time()
            fns[name]()
            times[name][0].append(time.perf_counter() - w0)
            times[name][1].append(time.process_time() - c0)
    return times


def share_torchvision_weights(ours: EncoderDecoder, tv: nn.Module) -> None:
    """Give our torchvision-form network torchvision's weights: both then compute exactly the same numbers (same
    activations, same denormals), so any time difference is framework overhead."""
    tv_backbone = tv.backbone.state_dict()  # IntermediateLayerGetter over `features`: keys "0.0.weight", ...
    key_map = mobilenet_v3_keys(ours.backbone)
    ours.backbone.load_state_dict({k: tv_backbone[v[len("features."):]] for k, v in key_map.items()})
    ours.decode_head.load_torchvision_state_dict(tv.classifier.state_dict())


def build_models() -> dict[str, tuple[nn.Module, Callable[[nn.Module, torch.Tensor], object]]]:
    torch.manual_seed(0)
    ours = MODELS.build(Config.fromfile(str(CONFIG)).model)
    ours_tv_form = EncoderDecoder(
        dict(name="mobilenet_v3_large", reduced_tail="detection", output_stride=16, atrous_rule="torchvision",
             os8_tap="block4.out"),
        dict(type="LRASPPHead", num_classes=19, channels=128, pool_kernel=None, gate_act="sigmoid", gate_bias=False),
    )
    tv_rf2 = _lraspp_mobilenetv3(mobilenet_v3_large(reduced_tail=True, dilated=True), num_classes=19)
    share_torchvision_weights(ours_tv_form, tv_rf2)
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


# config -> (Table row, params in millions or None, MAdds in billions), MobileNetV3 paper Tables 7 and 8
TABLE7 = {
    "raspp_mbv2_cityscapes.py": ("T7 1", 2.11, 21.29),
    "raspp_mbv2_rf2_cityscapes.py": ("T7 2", 1.15, 13.68),
    "lraspp_mbv2_rf2_f256_cityscapes.py": ("T7 3", 1.02, 12.83),
    "lraspp_mbv2_rf2_cityscapes.py": ("T7 4", 0.98, 12.57),
    "raspp_mbv3_large_cityscapes.py": ("T7 5", 3.60, 18.43),
    "raspp_mbv3_large_rf2_cityscapes.py": ("T7 6", 1.76, 11.24),
    "lraspp_mbv3_large_f256_cityscapes.py": ("T7 7", 1.63, 10.33),
    "lraspp_mbv3_large_cityscapes.py": ("T7 8", 1.51, 9.74),
    "lraspp_mbv2_050_cityscapes.py": ("T7 9", 0.28, 4.00),
    "lraspp_mbv2_035_cityscapes.py": ("T7 10", 0.16, 2.54),
    "lraspp_mbv3_small_cityscapes.py": ("T7 11", 0.47, 2.90),
    "lraspp_mbv3_large_os32_cityscapes.py": ("T8 L-OS32", None, 7.74),
    "lraspp_mbv3_small_os32_cityscapes.py": ("T8 S-OS32", None, 2.06),
}


def complexity_on_meta(model: nn.Module, shape: tuple[int, int]) -> tuple[int, int, int]:
    """(params, conv MAdds, conv MAdds + 2 per h-swish element + 1 per SE-scaled element); shapes only, on ``meta``."""
    from densenets.models.layers import SqueezeExcite

    extra = [0]

    def add(weight: int):
        return lambda mod, i, o: extra.__setitem__(0, extra[0] + weight * o.numel())

    hooks = [m.register_forward_hook(add(2)) for m in model.modules() if isinstance(m, nn.Hardswish)]
    hooks += [m.register_forward_hook(add(1)) for m in model.modules() if isinstance(m, SqueezeExcite)]
    model.to("meta")
    try:
        c = count_complexity(model, shape, forward=lambda m, x: m(x.to("meta"), mode="tensor"))
    finally:
        for h in hooks:
            h.remove()
    return c.params, c.madds, c.madds + extra[0]


def print_table7() -> None:
    print("config                                 row        params (paper)    conv MAdds 1024x2048 | 1025x2049"
          " | +h-swish/SE (paper)")
    for name, (row, params, madds) in TABLE7.items():
        cfg = Config.fromfile(str(CONFIG.parent / name))
        with torch.device("meta"):
            model = MODELS.build(cfg.model)
        n, conv_even, _ = complexity_on_meta(model, (1024, 2048))
        _, conv_tf, paper = complexity_on_meta(model, (1025, 2049))
        paper_params = f"{params:.2f}" if params is not None else "  - "
        print(f"{name:38s} {row:9s} {n / 1e6:6.3f}M ({paper_params})   {conv_even / 1e9:6.2f}B | {conv_tf / 1e9:6.2f}B"
              f" | {paper / 1e9:6.2f}B ({madds:.2f}, {paper / 1e9 / madds - 1:+.1%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per size (median reported)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sizes", nargs="+", default=["1024x2048", "512x1024"], help="HxW input sizes")
    parser.add_argument("--table7", action="store_true", help="print params / MAdds of the Table 7 and 8 configs")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.table7:
        print_table7()
        return

    models = build_models()
    print(f"CPU, {args.threads} thread(s), batch 1, eval mode, medians of {args.runs} after {args.warmup} warm-up")
    for size in args.sizes:
        h, w = (int(v) for v in size.lower().split("x"))
        x = torch.randn(1, 3, h, w)
        fns = {name: (lambda m=m, run=run: run(m, x)) for name, (m, run) in models.items()}
        with torch.inference_mode():
            t = timings(fns, args.runs, args.warmup)
        wall = {name: statistics.median(v[0]) for name, v in t.items()}
        cpu = {name: statistics.median(v[1]) for name, v in t.items()}
        print(f"{h}x{w}:                wall ms (ratio)      CPU ms (ratio)")
        for name, (model, run) in models.items():
            c = count_complexity(model, (h, w), forward=run)
            print(
                f"  {name:13s} {wall[name] * 1e3:8.1f} ({wall[name] / wall['tv_rf2']:.3f})  "
                f"{cpu[name] * 1e3:8.1f} ({cpu[name] / cpu['tv_rf2']:.3f})  "
                f"params {c.params / 1e6:.3f}M  conv MAdds {c.madds / 1e9:.2f}B"
            )


if __name__ == "__main__":
    main()
