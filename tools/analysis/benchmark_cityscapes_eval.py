#!/usr/bin/env python
"""Time tools/eval_cityscapes.py against the official cityscapesscripts evaluation on the same full-resolution files.

    python tools/analysis/benchmark_cityscapes_eval.py [--num-images 20] [--workers 1 2] [--repeat 2]

Writes N Cityscapes-layout 1024x2048 ground-truth pairs (labelIds + instanceIds, street scenes from the demo
generator upsampled x4, with about as many person/vehicle instances per image as real Cityscapes unless
``--few-instances``) and labelId predictions (the ground truth shifted by a few pixels with wrong blocks, like a
model's boundary and region errors) to a temporary folder, evaluates them with the official
``evalPixelLevelSemanticLabeling.evaluateImgLists`` (pure-Python path; its Cython extension is not shipped in the
wheel) and with ours (1..N worker processes), checks that the four averages agree to 1e-6 and prints the speed-up.
Both read the same PNGs from the page cache. On a shared machine, run it when the load is low and report the load.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time

import cv2
import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from densenets.datasets.demo.cityscapes_demo import draw_street_scene  # noqa: E402

KEYS = ("averageScoreClasses", "averageScoreInstClasses", "averageScoreCategories", "averageScoreInstCategories")


def _load_tool():
    path = os.path.join(ROOT, "tools", "eval_cityscapes.py")
    spec = importlib.util.spec_from_file_location("eval_cityscapes_tool", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # worker processes unpickle its functions by module name
    spec.loader.exec_module(mod)
    return mod


def write_pairs(out_dir: str, n: int, seed: int = 0, crowd: bool = True) -> tuple[list[str], list[str], int]:
    """N full-resolution gt/pred pairs; returns (pred files, gt files, number of evaluated instances)."""
    preds, gts, n_inst = [], [], 0
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        # crowd=True: about as many person/vehicle instances as real Cityscapes images (~15); the official script's
        # cost grows with that number, ours does not
        counts = dict(cars=(5, 10), persons=(4, 9)) if crowd else {}
        _, label, inst = draw_street_scene(rng, 256, 512, **counts)
        label = cv2.resize(label, (2048, 1024), interpolation=cv2.INTER_NEAREST)
        inst = cv2.resize(inst.astype(np.uint16), (2048, 1024), interpolation=cv2.INTER_NEAREST)
        pred = np.roll(label, (int(rng.integers(-6, 7)), int(rng.integers(-6, 7))), axis=(0, 1))
        for _ in range(8):
            y, x = int(rng.integers(0, 900)), int(rng.integers(0, 1900))
            pred[y:y + int(rng.integers(20, 120)), x:x + int(rng.integers(20, 150))] = rng.choice([7, 8, 11, 21, 26])
        city = ("frankfurt", "lindau", "munster")[i % 3]
        stem = f"{city}_{i:06d}_000019"
        os.makedirs(os.path.join(out_dir, "gt", city), exist_ok=True)
        os.makedirs(os.path.join(out_dir, "pred", city), exist_ok=True)
        # written with Pillow, as cityscapesscripts' json2labelImg / json2instanceImg write the real ground truth
        # (labelIds 8-bit, instanceIds 16-bit) and as most tools write predictions
        gt = os.path.join(out_dir, "gt", city, f"{stem}_gtFine_labelIds.png")
        Image.fromarray(label).save(gt)
        Image.fromarray(inst.astype(np.uint16)).save(gt.replace("labelIds", "instanceIds"))
        p = os.path.join(out_dir, "pred", city, f"{stem}_pred_labelIds.png")
        Image.fromarray(pred).save(p)
        preds.append(p)
        gts.append(gt)
        n_inst += len(np.unique(inst[inst > 1000]))
    return preds, gts, n_inst


def run_official(preds: list[str], gts: list[str]) -> tuple[float, dict]:
    from cityscapesscripts.evaluation import evalPixelLevelSemanticLabeling as official

    if not hasattr(np, "in1d"):  # cityscapesscripts 2.3.0 calls np.in1d, removed in NumPy 2.4
        np.in1d = np.isin
    official.args.quiet = True
    official.args.JSONOutput = False
    start = time.perf_counter()
    res = official.evaluateImgLists(preds, gts, official.args)
    return time.perf_counter() - start, res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--num-images", type=int, default=20)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeat", type=int, default=2, help="timed runs of each, the best is reported")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--few-instances", action="store_true", help="the demo's sparse scenes (~5 instances per image)")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    tool = _load_tool()
    with tempfile.TemporaryDirectory() as tmp:
        preds, gts, n_inst = write_pairs(tmp, args.num_images, args.seed, crowd=not args.few_instances)
        pairs, missing, ambiguous, _ = tool.match_predictions(
            tool.find_ground_truth(os.path.join(tmp, "gt")), tool.index_predictions(os.path.join(tmp, "pred")))
        assert not missing and not ambiguous and len(pairs) == len(gts)
        print(f"{len(gts)} image pairs of 1024x2048, {n_inst / len(gts):.1f} evaluated instances per image; "
              f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        t_off, ref = min((run_official(preds, gts) for _ in range(args.repeat)), key=lambda r: r[0])
        print(f"official evaluateImgLists : {t_off:7.2f} s  ({1000 * t_off / len(gts):6.1f} ms/image)")
        for w in args.workers:
            best = float("inf")
            for _ in range(args.repeat):
                start = time.perf_counter()
                acc = tool.evaluate_pairs(pairs, w)
                best = min(best, time.perf_counter() - start)
            ours = acc.scores()
            for k in KEYS:
                assert abs(ours[k] - ref[k]) < 1e-6, (k, ours[k], ref[k])
            print(f"ours, {w} worker(s)        : {best:7.2f} s  ({1000 * best / len(gts):6.1f} ms/image)  "
                  f"speed-up x{t_off / best:.1f}")
        print(f"scores agree to 1e-6: mIoU {ref['averageScoreClasses']:.6f}  iIoU {ref['averageScoreInstClasses']:.6f}"
              f"  catIoU {ref['averageScoreCategories']:.6f}  cat-iIoU {ref['averageScoreInstCategories']:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
