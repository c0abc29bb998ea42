"""Evaluating folders of Cityscapes prediction PNGs: matching them to the ground truth as the official script does,
and accumulating the scores in parallel worker processes (the library side of ``tools/eval_cityscapes.py``).

Matching (``cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling.getPrediction``): for
``<city>_<seq>_<frame>_gtFine_labelIds.png`` the one PNG under the prediction folder (searched recursively) whose name
starts with ``<city>_<seq>_<frame>``. Missing and ambiguous predictions are all reported, not just the first.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import re
import sys
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from typing import NamedTuple, Sequence

from ..datasets.cityscapes_labels import CityscapesDataError, read_label_png
from .cityscapes_metric import CityscapesAccumulator

__all__ = ["GT_SUFFIX", "Matches", "Pair", "available_cpus", "evaluate_pair", "evaluate_pairs", "find_ground_truth",
           "index_predictions", "match_predictions"]

GT_SUFFIX = "_gtFine_labelIds.png"
INSTANCE_SUFFIX = "_gtFine_instanceIds.png"
_KEY_RE = re.compile(r"^([^_]+_\d+_\d+)")


class Pair(NamedTuple):
    """One image to evaluate: its prediction, ground truth and instance ids (None: no iIoU) files."""

    pred: str
    gt: str
    instances: str | None


class Matches(NamedTuple):
    pairs: list[Pair]
    missing: list[str]  # ground truths without a prediction
    ambiguous: dict[str, list[str]]  # ground truths with several
    unused: list[str]  # predictions matching no ground truth


def find_ground_truth(gt_dir: str) -> list[str]:
    """The ``*_gtFine_labelIds.png`` files under ``gt_dir`` (recursive, sorted)."""
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


def match_predictions(gt_files: Sequence[str], index: dict[str, list[str]], with_instances: bool = True) -> Matches:
    """Pair every ground truth with its one prediction (the official rule); list what does not match."""
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
            inst = gt[: -len(GT_SUFFIX)] + INSTANCE_SUFFIX if with_instances else None
            pairs.append(Pair(found[0], gt, inst))
    unused = sorted(p for key, files in index.items() if key not in used for p in files)
    return Matches(pairs, missing, ambiguous, unused)


def evaluate_pair(acc: CityscapesAccumulator, pair: Pair) -> None:
    """Decode one pair's files and add them to ``acc``; sizes that differ raise, naming the files."""
    gt = read_label_png(pair.gt)
    pred = read_label_png(pair.pred)
    if pred.shape != gt.shape:
        raise CityscapesDataError(
            f"{pair.pred}: prediction is {pred.shape[0]}x{pred.shape[1]} but its ground truth {pair.gt} is "
            f"{gt.shape[0]}x{gt.shape[1]} (h x w)"
        )
    inst = None
    if pair.instances is not None:
        inst = read_label_png(pair.instances)
        if inst.shape != gt.shape:
            raise CityscapesDataError(
                f"{pair.instances}: instance map size {inst.shape} differs from {pair.gt} {gt.shape}")
    acc.add(gt, pred, inst, name=pair.pred)


def _evaluate_chunk(pairs: Sequence[Pair], pred_ids: str = "label") -> CityscapesAccumulator:
    acc = CityscapesAccumulator("label", pred_ids=pred_ids)
    for pair in pairs:
        evaluate_pair(acc, pair)
    return acc


def _init_worker() -> None:
    import cv2
    import torch

    torch.set_num_threads(1)
    cv2.setNumThreads(1)


def evaluate_pairs(pairs: Sequence[Pair], workers: int = 1, pred_ids: str = "label") -> CityscapesAccumulator:
    """Accumulate all pairs (labelId ground truth; ``pred_ids`` predictions), in ``workers`` processes when > 1
    (each returns its running sums, merged here: the same sums as one process)."""
    workers = min(workers, len(pairs))
    if workers <= 1:
        _init_worker()
        return _evaluate_chunk(pairs, pred_ids)
    n_chunks = min(len(pairs), workers * 4)
    chunks = [pairs[i::n_chunks] for i in range(n_chunks)]
    acc = CityscapesAccumulator("label", pred_ids=pred_ids)
    ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    # concurrent.futures rather than multiprocessing.Pool: an error in a worker (a file of the wrong size, trainId
    # predictions) reaches the caller as that error, and a worker that dies is a BrokenProcessPool -- Pool.terminate
    # can wait forever on its handler threads after a worker error in a process that has threads of its own.
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker) as pool:
        futures = [pool.submit(_evaluate_chunk, chunk, pred_ids) for chunk in chunks]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            if future in done and future.exception() is not None:
                for other in futures:
                    other.cancel()
                raise future.exception()
        for future in futures:
            acc.merge(future.result())
    return acc


def available_cpus() -> int:
    """CPUs this process may run on (respects ``taskset``/affinity masks), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
