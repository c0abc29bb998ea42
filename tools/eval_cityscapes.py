#!/usr/bin/env python
"""Evaluate a folder of Cityscapes prediction PNGs (labelIds) with the official pixel-level definitions, fast.

    python tools/eval_cityscapes.py PRED_DIR [--gt-dir data/cityscapes/gtFine/val] [--json] [--workers N]
                                             [--no-instances]

Predictions are matched to ground truth as ``cityscapesscripts``' ``evalPixelLevelSemanticLabeling`` does: for
``<city>_<seq>_<frame>_gtFine_labelIds.png`` the one PNG under PRED_DIR (searched recursively) whose name starts
with ``<city>_<seq>_<frame>``. Missing and ambiguous predictions are all listed by name (exit status 2). The scores
(class IoU, iIoU, category IoU / iIoU, as fractions) are identical to the official script's; see
``densenets/evaluation/cityscapes_metric.py``. With ``--json`` the last line printed is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import re
import sys
import time
from typing import Sequence

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from densenets.datasets.cityscapes import CityscapesDataError, read_label_png  # noqa: E402
from densenets.evaluation.cityscapes_metric import CityscapesAccumulator, format_scores  # noqa: E402

GT_SUFFIX = "_gtFine_labelIds.png"
_KEY_RE = re.compile(r"^([^_]+_\d+_\d+)")

Pair = tuple[str, str, "str | None"]  # prediction, ground truth, instance ids (None: no iIoU)


def find_ground_truth(gt_dir: str) -> list[str]:
    if not os.path.isdir(gt_dir):
        raise CityscapesDataError(f"{gt_dir}: ground-truth folder not found (expected e.g. data/cityscapes/gtFine/val)")
    files = sorted(os.path.join(root, f) for root, _, names in os.walk(gt_dir) for f in names if f.endswith(GT_SUFFIX))
    if not files:
        raise CityscapesDataError(f"{gt_dir}: no '*{GT_SUFFIX}' files found (searched recursively)")
    return files


def index_predictions(pred_dir: str) -> dict[str, list[str]]:
    """``<city>_<seq>_<frame>`` -> prediction PNGs whose name starts with it (searched recursively)."""
    if not os.path.isdir(pred_dir):
        raise CityscapesDataError(f"{pred_dir}: prediction folder not found")
    index: dict[str, list[str]] = {}
    for root, _, names in os.walk(pred_dir):
        for name in names:
            m = _KEY_RE.match(name)
            if m and name.endswith(".png"):
                index.setdefault(m.group(1), []).append(os.path.join(root, name))
    return index


def match_predictions(gt_files: Sequence[str], index: dict[str, list[str]],
                      with_instances: bool = True) -> tuple[list[Pair], list[str], dict[str, list[str]], list[str]]:
    """Pairs, ground truths without a prediction, ground truths with several, and predictions matching no gt."""
    pairs, missing, ambiguous, used = [], [], {}, set()
    for gt in gt_files:
        key = os.path.basename(gt)[: -len(GT_SUFFIX)]
        found = sorted(index.get(key, ()))
        used.add(key)
        if not found:
            missing.append(gt)
        elif len(found) > 1:
            ambiguous[gt] = found
        else:
            inst = gt[: -len(GT_SUFFIX)] + "_gtFine_instanceIds.png" if with_instances else None
            pairs.append((found[0], gt, inst))
    unused = sorted(p for key, files in index.items() if key not in used for p in files)
    return pairs, missing, ambiguous, unused


def evaluate_pair(acc: CityscapesAccumulator, pred_path: str, gt_path: str, inst_path: str | None) -> None:
    gt = read_label_png(gt_path)
    pred = read_label_png(pred_path)
    if pred.shape != gt.shape:
        raise CityscapesDataError(
            f"{pred_path}: prediction is {pred.shape[0]}x{pred.shape[1]} but its ground truth {gt_path} is "
            f"{gt.shape[0]}x{gt.shape[1]} (h x w)"
        )
    inst = None
    if inst_path is not None:
        inst = read_label_png(inst_path)
        if inst.shape != gt.shape:
            raise CityscapesDataError(f"{inst_path}: instance map size {inst.shape} differs from {gt_path} {gt.shape}")
    acc.add(gt, pred, inst, name=pred_path)


def _evaluate_chunk(pairs: Sequence[Pair]) -> CityscapesAccumulator:
    acc = CityscapesAccumulator("label")
    for pred, gt, inst in pairs:
        evaluate_pair(acc, pred, gt, inst)
    return acc


def _init_worker() -> None:
    import cv2
    import torch

    torch.set_num_threads(1)
    cv2.setNumThreads(1)


def evaluate_pairs(pairs: Sequence[Pair], workers: int = 1) -> CityscapesAccumulator:
    """Accumulate all pairs, in ``workers`` processes when > 1 (each returns its running sums)."""
    workers = min(workers, len(pairs))
    if workers <= 1:
        _init_worker()
        return _evaluate_chunk(pairs)
    n_chunks = min(len(pairs), workers * 4)
    chunks = [pairs[i::n_chunks] for i in range(n_chunks)]
    acc = CityscapesAccumulator("label")
    ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    with ctx.Pool(workers, initializer=_init_worker) as pool:
        for part in pool.imap_unordered(_evaluate_chunk, chunks):
            acc.merge(part)
    return acc


def available_cpus() -> int:
    """CPUs this process may run on (respects ``taskset``/affinity masks), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _json_safe(v):
    if isinstance(v, dict):
        return {k: _json_safe(x) for k, x in v.items()}
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("pred_dir", help="folder of labelId prediction PNGs named <city>_<seq>_<frame>*.png (recursive)")
    p.add_argument("--gt-dir", default="data/cityscapes/gtFine/val", help="ground-truth folder (recursive)")
    p.add_argument("--json", action="store_true", help="print one JSON object with the scores as the last line")
    p.add_argument("--workers", type=int, default=available_cpus(),
                   help="worker processes decoding and counting in parallel (default: the CPUs this process may use)")
    p.add_argument("--no-instances", action="store_true", help="skip the instance-weighted iIoU (no instanceIds)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        gt_files = find_ground_truth(args.gt_dir)
        index = index_predictions(args.pred_dir)
    except CityscapesDataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    pairs, missing, ambiguous, unused = match_predictions(gt_files, index, not args.no_instances)
    if missing or ambiguous:
        lines = [f"error: {len(missing)} of {len(gt_files)} ground-truth images have no prediction and "
                 f"{len(ambiguous)} have several in {args.pred_dir} (expected exactly one '<city>_<seq>_<frame>*.png')"]
        lines += [f"  missing prediction for {os.path.basename(g)}" for g in missing]
        for g, found in ambiguous.items():
            lines.append(f"  several predictions for {os.path.basename(g)}: {', '.join(found)}")
        print("\n".join(lines), file=sys.stderr)
        return 2
    if unused:
        print(f"warning: {len(unused)} prediction files match no ground truth and are ignored, e.g. "
              f"{', '.join(os.path.basename(u) for u in unused[:5])}", file=sys.stderr)
    start = time.perf_counter()
    try:
        acc = evaluate_pairs(pairs, args.workers)
    except CityscapesDataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    scores = acc.scores()
    print(format_scores(scores))
    print(f"Evaluated {len(pairs)} images in {time.perf_counter() - start:.2f} s "
          f"(mIoU {100 * scores['averageScoreClasses']:.2f})")
    if args.json:
        keys = ("averageScoreClasses", "averageScoreInstClasses", "averageScoreCategories",
                "averageScoreInstCategories", "classScores", "classInstScores", "categoryScores",
                "categoryInstScores", "numImages")
        print(json.dumps(_json_safe({k: scores[k] for k in keys})))
    return 0


if __name__ == "__main__":
    sys.exit(main())
