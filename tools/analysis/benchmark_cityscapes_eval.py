#!/usr/bin/env python
"""Time tools/eval_cityscapes.py against the official cityscapesscripts evaluation on the same full-resolution files.

    python tools/analysis/benchmark_cityscapes_eval.py [--num-images 20] [--workers 1 2] [--repeat 2]
                                                       [--few-instances] [--full-res-scenes] [--cli]

Writes N Cityscapes-layout 1024x2048 ground-truth pairs (labelIds + instanceIds, street scenes from the demo
generator upsampled x4, or drawn at full resolution with ``--full-res-scenes``, with about as many person/vehicle
instances per image as real Cityscapes unless ``--few-instances``) and labelId predictions (the ground truth shifted
by a few pixels with wrong blocks, like a model's boundary and region errors) to a temporary folder, all written
with Pillow as cityscapesscripts writes the real ground truth. Then it evaluates them with the official
``evalPixelLevelSemanticLabeling.evaluateImgLists`` (pure-Python path; its Cython extension is not shipped in the
wheel) and with ours (1..N worker processes) in interleaved rounds, checks that the four averages agree to 1e-6 and
prints per image the best wall time and the best CPU time (user + system, worker processes included) of each.

On a shared machine wall times depend on the other jobs; the single-process CPU-time ratio is the stable figure:
k workers on k idle cores are about k / ratio times faster than the official script. Both read the same PNGs from
the page cache. ``--cli`` also times both complete command lines on the same files, which adds each one's start-up
(ours imports torch, mmengine and albumentations through the package: about 2.5 s of CPU, paid once per run).
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Sequence

import cv2
import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from densenets.datasets.demo.cityscapes_demo import draw_street_scene  # noqa: E402
from densenets.evaluation import cityscapes_files as tool  # noqa: E402  (what tools/eval_cityscapes.py runs)

GT_SUBDIR = ("gtFine", "val")  # the official layout, so that the official command line finds the files
KEYS = ("averageScoreClasses", "averageScoreInstClasses", "averageScoreCategories", "averageScoreInstCategories")


def write_pairs(out_dir: str, n: int, seed: int = 0, crowd: bool = True,
                full_res: bool = False) -> tuple[list[str], list[str], int]:
    """N full-resolution gt/pred pairs; returns (pred files, gt files, number of evaluated instances)."""
    preds, gts, n_inst = [], [], 0
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        # crowd=True: about as many person/vehicle instances as real Cityscapes images (~15); the official script's
        # cost grows with that number, ours does not
        counts = dict(cars=(5, 10), persons=(4, 9)) if crowd else {}
        _, label, inst = draw_street_scene(rng, *((1024, 2048) if full_res else (256, 512)), **counts)
        label = cv2.resize(label, (2048, 1024), interpolation=cv2.INTER_NEAREST)
        inst = cv2.resize(inst.astype(np.uint16), (2048, 1024), interpolation=cv2.INTER_NEAREST)
        pred = np.roll(label, (int(rng.integers(-6, 7)), int(rng.integers(-6, 7))), axis=(0, 1))
        for _ in range(8):
            y, x = int(rng.integers(0, 900)), int(rng.integers(0, 1900))
            pred[y:y + int(rng.integers(20, 120)), x:x + int(rng.integers(20, 150))] = rng.choice([7, 8, 11, 21, 26])
        city = ("frankfurt", "lindau", "munster")[i % 3]
        stem = f"{city}_{i:06d}_000019"
        os.makedirs(os.path.join(out_dir, *GT_SUBDIR, city), exist_ok=True)
        os.makedirs(os.path.join(out_dir, "pred", city), exist_ok=True)
        # written with Pillow, as cityscapesscripts' json2labelImg / json2instanceImg write the real ground truth
        # (labelIds 8-bit, instanceIds 16-bit) and as most tools write predictions
        gt = os.path.join(out_dir, *GT_SUBDIR, city, f"{stem}_gtFine_labelIds.png")
        Image.fromarray(label).save(gt)
        Image.fromarray(inst.astype(np.uint16)).save(gt.replace("labelIds", "instanceIds"))
        p = os.path.join(out_dir, "pred", city, f"{stem}_pred_labelIds.png")
        Image.fromarray(pred).save(p)
        preds.append(p)
        gts.append(gt)
        n_inst += len(np.unique(inst[inst > 1000]))
    return preds, gts, n_inst


def run_official(preds: list[str], gts: list[str]) -> dict:
    from cityscapesscripts.evaluation import evalPixelLevelSemanticLabeling as official

    if not hasattr(np, "in1d"):  # cityscapesscripts 2.3.0 calls np.in1d, removed in NumPy 2.4
        np.in1d = np.isin
    official.args.quiet = True
    official.args.JSONOutput = False
    return official.evaluateImgLists(preds, gts, official.args)


def _cpu_seconds() -> float:
    """CPU time (user + system) of this process plus that of the worker processes it has waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """``(wall seconds, CPU seconds of this process and its workers, result)`` of one call."""
    wall, cpu = time.perf_counter(), _cpu_seconds()
    result = fn()
    return time.perf_counter() - wall, _cpu_seconds() - cpu, result


def time_command_lines(tmp: str, workers: Sequence[int], repeat: int) -> None:
    """Best wall / CPU time of both complete command lines (interpreter start-up and imports included)."""
    official = ("import numpy as np; np.in1d = np.isin; "  # NumPy 2.4 removed np.in1d, which cityscapesscripts calls
                "from cityscapesscripts.evaluation import evalPixelLevelSemanticLabeling as m; m.args.quiet = True; "
                "m.main()")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CITYSCAPES_DATASET": tmp,
           "CITYSCAPES_RESULTS": os.path.join(tmp, "pred"), "CITYSCAPES_EXPORT_DIR": tmp}
    commands = {"official command line": [sys.executable, "-c", official]}
    for w in workers:
        commands[f"tools/eval_cityscapes.py --workers {w}"] = [
            sys.executable, os.path.join(ROOT, "tools", "eval_cityscapes.py"), os.path.join(tmp, "pred"),
            "--gt-dir", os.path.join(tmp, *GT_SUBDIR), "--workers", str(w)]
    best = {name: (float("inf"), float("inf")) for name in commands}
    for _ in range(repeat):
        for name, cmd in commands.items():
            t, c, proc = timed(lambda: subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp))
            if proc.returncode != 0:
                raise RuntimeError(f"{name} failed:\n{proc.stderr[-2000:]}")
            best[name] = (min(best[name][0], t), min(best[name][1], c))
    (t0, c0), *_ = best.values()
    for name, (t, c) in best.items():
        print(f"{name:<36}: wall {t:6.2f} s, CPU {c:6.2f} s  (wall x{t0 / t:.1f}, CPU x{c0 / c:.1f})")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--num-images", type=int, default=20)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeat", type=int, default=2, help="timed rounds (official, then ours), the best is reported")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--few-instances", action="store_true", help="the demo's sparse scenes (~5 instances per image)")
    p.add_argument("--cli", action="store_true",
                   help="also time both complete command lines (start-up and imports included) on the same files")
    p.add_argument("--full-res-scenes", action="store_true",
                   help="draw the scenes at 1024x2048 (finer boundaries, ~2 s per image to write) instead of x4")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        preds, gts, n_inst = write_pairs(tmp, args.num_images, args.seed, crowd=not args.few_instances,
                                         full_res=args.full_res_scenes)
        pairs, missing, ambiguous, _ = tool.match_predictions(
            tool.find_ground_truth(os.path.join(tmp, *GT_SUBDIR)), tool.index_predictions(os.path.join(tmp, "pred")))
        assert not missing and not ambiguous and len(pairs) == len(gts)
        n = len(gts)
        print(f"{n} image pairs of 1024x2048, {n_inst / n:.1f} evaluated instances per image; "
              f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        names = ["official"] + [f"ours, {w} worker(s)" for w in args.workers]
        jobs = [lambda: run_official(preds, gts)] + [lambda w=w: tool.evaluate_pairs(pairs, w) for w in args.workers]
        wall, cpu = [float("inf")] * len(jobs), [float("inf")] * len(jobs)
        ref = None
        for _ in range(args.repeat):  # interleaved rounds, so that a burst of load hits all of them alike
            for j, job in enumerate(jobs):
                t, c, res = timed(job)
                wall[j], cpu[j] = min(wall[j], t), min(cpu[j], c)
                if j == 0:
                    ref = res
                else:
                    ours = res.scores()
                    for k in KEYS:
                        assert abs(ours[k] - ref[k]) < 1e-6, (k, ours[k], ref[k])
        for j, name in enumerate(names):
            line = f"{name:<20}: wall {1000 * wall[j] / n:6.1f} ms/image, CPU {1000 * cpu[j] / n:6.1f} ms/image"
            if j:
                line += f"  wall speed-up x{wall[0] / wall[j]:.1f}, CPU time {cpu[j] / cpu[0]:.2f} x official's"
            print(line)
        if 1 in args.workers:
            ratio = cpu[1 + args.workers.index(1)] / cpu[0]
            print(f"single-process CPU time ratio {ratio:.2f}: on k idle cores, k workers would be about "
                  f"x{1 / ratio:.1f} * k faster than the official script (x{2 / ratio:.1f} on 2)")
        if args.cli:
            time_command_lines(tmp, args.workers, args.repeat)
        print(f"scores agree to 1e-6: mIoU {ref['averageScoreClasses']:.6f}  iIoU {ref['averageScoreInstClasses']:.6f}"
              f"  catIoU {ref['averageScoreCategories']:.6f}  cat-iIoU {ref['averageScoreInstCategories']:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
