"""Benchmark SSDLite-MobileNetV3-Large against torchvision's ``ssdlite320_mobilenet_v3_large``, in the same run.

(a) inference, CPU, batch 1, 320x320, eval mode (default 1 thread):
    * network alone: ours ``model(x, mode="tensor")`` vs torchvision ``head(backbone(x))``;
    * ours also with ``optimize_for_inference()`` (conv-BN folding + channels-last; inference only);
    * end to end: ours = ImagePreprocessor (uint8 -> [-1, 1]) + network + anchors/decoding/NMS, torchvision =
      uint8 -> float + GeneralizedRCNNTransform (normalise, resize 320 -> 320) + network + its post-processing.
(b) training step, CPU, batch 8, 320x320 (default 2 threads): forward + loss + backward + SGD step, each model's own
    data path (ours: preprocessor + matching + loss; torchvision: transform + matching + loss).

Models: ``ours_rf2`` = the default config's network (MobileNetV3-Large with the reduced tail, TF anchors, sigmoid
focal loss, 90 classes); ``ours_tv_form`` = the same network in torchvision's form (torchvision anchors, softmax over
91 with hard-negative mining), i.e. exactly torchvision's architecture (3,440,060 parameters: torchvision builds the
reduced tail when ``weights_backbone=None``). Figures are medians over ``--runs`` after ``--warmup`` runs, the
candidates interleaved round-robin; ratios are ours / torchvision (< 1: ours is faster).

    OMP_NUM_THREADS=1 python tools/analysis/benchmark_ssdlite.py [--runs 50] [--warmup 10] [--skip-train]
    OMP_NUM_THREADS=1 python tools/analysis/benchmark_ssdlite.py --complexity   # params / MAdds vs Table 6
"""
from __future__ import annotations

import argparse
from pathlib import Path
import statistics
import time
from typing import Callable

import torch
from torchvision.models.detection import ssdlite320_mobilenet_v3_large

from densenets.models import SSDLite

SIZE = 320
FORMS = (
    ("rf2", "RF2, TF form (default config)"),
    ("tv_form", "RF2, torchvision form (same network as torchvision)"),
    ("rf2_opt", "RF2, TF form, optimize_for_inference (BN folded, channels-last)"),
)


def median_times(fns: dict[str, Callable[[], object]], runs: int, warmup: int) -> dict[str, float]:
    """Median seconds per call of each function; calls are interleaved round-robin so that load changes on a shared
    machine hit every candidate alike."""
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


def build_ours(form: str) -> SSDLite:
    backbone = dict(name="mobilenet_v3_large", reduced_tail="detection")
    if form == "tv_form":
        return SSDLite(backbone=backbone, num_classes=90, anchor_layout="torchvision", loss="softmax_hnm")
    return SSDLite(backbone=backbone, num_classes=90)


def sample_targets(batch: int, seed: int = 0) -> tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    images, boxes, labels = [], [], []
    for _ in range(batch):
        images.append(torch.randint(0, 256, (3, SIZE, SIZE), dtype=torch.uint8, generator=g))
        n = int(torch.randint(1, 8, (1,), generator=g))
        xy = torch.rand(n, 2, generator=g) * (SIZE - 80)
        boxes.append(torch.cat([xy, xy + 16 + torch.rand(n, 2, generator=g) * 60], 1))
        labels.append(torch.randint(0, 90, (n,), generator=g))
    return images, boxes, labels


def bench_inference(runs: int, warmup: int) -> dict[str, float]:
    torch.manual_seed(0)
    tv = ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None).eval()
    image = torch.randint(0, 256, (3, SIZE, SIZE), dtype=torch.uint8)
    x = image.float()[None] / 127.5 - 1
    sample = dict(ori_shape=(SIZE, SIZE), img_shape=(SIZE, SIZE), scale_factor=(1.0, 1.0))
    fns: dict[str, Callable[[], object]] = {
        "tv_net": lambda: tv.head(list(tv.backbone(x).values())),
        "tv_e2e": lambda: tv([image.float() / 255]),
    }
    for form in ("rf2", "tv_form", "rf2_opt"):
        model = build_ours(form.removesuffix("_opt")).eval()
        inp = x
        if form.endswith("_opt"):
            model.optimize_for_inference(channels_last=True)
            inp = x.contiguous(memory_format=torch.channels_last)

        def e2e(model: SSDLite = model) -> object:
            data = model.data_preprocessor({"inputs": [image], "data_samples": [dict(sample)]}, False)
            return model(**data, mode="predict")

        fns[f"ours_{form}_net"] = lambda model=model, inp=inp: model(inp, mode="tensor")
        fns[f"ours_{form}_e2e"] = e2e
    with torch.inference_mode():
        return median_times(fns, runs, warmup)


def bench_train(runs: int, warmup: int, batch: int) -> dict[str, float]:
    images, boxes, labels = sample_targets(batch)
    torch.manual_seed(0)
    tv = ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None).train()
    tv_opt = torch.optim.SGD(tv.parameters(), lr=1e-3, momentum=0.9, weight_decay=4e-5)
    tv_targets = [{"boxes": b, "labels": lab + 1} for b, lab in zip(boxes, labels)]

    def tv_step() -> None:
        losses = tv([im.float() / 255 for im in images], tv_targets)
        tv_opt.zero_grad(set_to_none=True)
        sum(losses.values()).backward()
        tv_opt.step()

    fns: dict[str, Callable[[], object]] = {"tv_train": tv_step}
    for form in ("rf2", "tv_form"):
        model = build_ours(form).train()
        opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, weight_decay=4e-5)

        def step(model: SSDLite = model, opt: torch.optim.Optimizer = opt) -> None:
            samples = [{"gt_boxes": b, "gt_labels": lab} for b, lab in zip(boxes, labels)]
            data = model.data_preprocessor({"inputs": images, "data_samples": samples}, True)
            losses = model(**data, mode="loss")
            opt.zero_grad(set_to_none=True)
            sum(losses.values()).backward()
            opt.step()

        fns[f"ours_{form}_train"] = step
    return median_times(fns, runs, warmup)


def print_complexity() -> None:
    """Params and MAdds of every ``configs/ssdlite_*.py`` at 320x320 with 90 classes (TF's label map) next to
    MobileNetV3 Table 6 (``densenets.analysis.paper_figures``)."""
    from mmengine.config import Config

    from densenets.analysis import count_complexity
    from densenets.analysis.paper_figures import paper_figures
    from densenets.registry import MODELS

    print("SSDLite 320x320, 90 classes: ours vs MobileNetV3 Table 6")
    for path in sorted(Path(__file__).resolve().parents[2].glob("configs/ssdlite_*.py")):
        cfg = Config.fromfile(str(path))
        cfg.model.num_classes = 90
        c = count_complexity(MODELS.build(cfg.model), (SIZE, SIZE))
        paper = paper_figures(path.stem)
        line = f"  {path.stem:26s} params {c.params / 1e6:6.3f}M  MAdds {c.madds / 1e9:6.3f}B"
        if paper is not None:
            line += (f"   paper ({paper.source}): {paper.params_m:.2f}M ({c.params / (paper.params_m * 1e6) - 1:+.1%}), "
                     f"{paper.madds_b:.2f}B ({c.madds / (paper.madds_b * 1e9) - 1:+.1%})")
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50, help="timed runs per measurement (median reported)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1, help="threads for (a) inference")
    parser.add_argument("--train-threads", type=int, default=2, help="threads for (b) the training step")
    parser.add_argument("--train-batch", type=int, default=8)
    parser.add_argument("--train-runs", type=int, default=None, help="timed training steps (default: --runs // 2)")
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument("--skip-infer", action="store_true")
    parser.add_argument("--complexity", action="store_true", help="only print params / MAdds against Table 6")
    args = parser.parse_args()

    if args.complexity:
        torch.set_num_threads(args.threads)
        print_complexity()
        return

    if not args.skip_infer:
        torch.set_num_threads(args.threads)
        r = bench_inference(args.runs, args.warmup)
        print(f"(a) inference, CPU, {args.threads} thread(s), batch 1, {SIZE}x{SIZE}, median of {args.runs} (ms)")
        for part, label in (("net", "network alone"), ("e2e", "end to end")):
            tv = r[f"tv_{part}"]
            print(f"  {label}: torchvision {tv * 1e3:.2f}")
            for form, name in FORMS:
                t = r[f"ours_{form}_{part}"]
                print(f"    ours {name}: {t * 1e3:.2f}  ratio {t / tv:.3f}")
    if not args.skip_train:
        torch.set_num_threads(args.train_threads)
        runs = args.train_runs or max(1, args.runs // 2)
        r = bench_train(runs, max(1, args.warmup // 2), args.train_batch)
        tv = r["tv_train"]
        print(f"(b) training step, CPU, {args.train_threads} thread(s), batch {args.train_batch}, {SIZE}x{SIZE}, "
              f"median of {runs}")
        print(
            f"  fwd+bwd+SGD: torchvision {tv * 1e3:7.1f} ms | ours RF2 (TF form) {r['ours_rf2_train'] * 1e3:7.1f} ms"
            f" ratio {r['ours_rf2_train'] / tv:.3f} | ours torchvision form {r['ours_tv_form_train'] * 1e3:7.1f} ms"
            f" ratio {r['ours_tv_form_train'] / tv:.3f}"
        )


if __name__ == "__main__":
    main()
