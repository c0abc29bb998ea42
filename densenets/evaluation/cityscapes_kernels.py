"""Counting kernels of the Cityscapes evaluation: per-image histograms, exact, on the CPU or on the tensors' device.

* :func:`run_values`: a joint run-length encoding of the (ground truth, prediction, instance) maps in raster order.
  Each run of pixels over which none of the maps changes is counted once, weighted by its length; label maps have
  long runs, so everything after this one pass is small. Noisy maps (mean run < :data:`MIN_MEAN_RUN`) are returned
  per pixel instead.
* :func:`joint_histogram`: the (ground truth, prediction) confusion counts (``cv2.calcHist`` per pixel, a weighted
  ``np.bincount`` per run).
* :func:`instance_histogram_numpy` / :func:`instance_histogram_torch`: per ground-truth instance (id > 1000), its
  size and the histogram of the predictions on it (``torch.bincount`` on the tensors' device).

All counts are integers (float64 sums of integers below 2**53 are exact), so every path gives identical sums.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
import torch

__all__ = ["MIN_MEAN_RUN", "counts", "instance_histogram_numpy", "instance_histogram_torch", "joint_histogram",
           "run_values"]

#: run-length encode only when runs average at least this many pixels; noisier maps are counted pixel by pixel
MIN_MEAN_RUN = 4


def run_values(maps: Sequence[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Run-length encode same-shaped maps jointly in raster order (counting is independent of geometry).

    Returns, per map, its value at the start of every run of pixels over which no map changes, and the run lengths.
    Every distinct value appears at some run start, so histograms weighted by the lengths equal the per-pixel ones.
    Label maps have long runs (Cityscapes rows cross a few dozen boundaries), which makes all later work tiny; for
    noisy maps (mean run < ``MIN_MEAN_RUN`` pixels) the flattened maps are returned with ``None`` lengths instead.
    """
    flats = [np.ravel(m) for m in maps]
    size = flats[0].size
    if size < 2:
        return flats, None
    change = np.empty(size, dtype=bool)
    change[0] = True
    np.not_equal(flats[0][1:], flats[0][:-1], out=change[1:])
    differs = np.empty(size - 1, dtype=bool)
    for flat in flats[1:]:
        np.not_equal(flat[1:], flat[:-1], out=differs)
        change[1:] |= differs
    if np.count_nonzero(change) * MIN_MEAN_RUN > size:
        return flats, None
    starts = np.flatnonzero(change)
    return [flat[starts] for flat in flats], np.diff(starts, append=size)


def counts(values: np.ndarray, weights: np.ndarray | None, size: int) -> np.ndarray:
    """``bincount`` of non-negative integer ``values`` (weighted by run lengths) as exact int64 counts."""
    return np.bincount(values, weights, minlength=size).astype(np.int64)  # float sums of integers < 2**53 are exact


def joint_histogram(gt: np.ndarray, pred: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    """``n x n`` counts of (gt, pred) pairs, each weighted by its run length; ids are known to be in 0..n-1."""
    if weights is None and gt.dtype == pred.dtype == np.uint8 and gt.size < (1 << 24):
        # per pixel, cv2.calcHist beats a bincount (float32 bins are exact below 2**24 pixels)
        hist = cv2.calcHist([np.ascontiguousarray(gt), np.ascontiguousarray(pred)], [0, 1], None, [n, n], [0, n, 0, n])
        return hist.astype(np.int64)
    return counts(gt.astype(np.intp) * n + pred, weights, n * n).reshape(n, n)


def instance_histogram_numpy(inst: np.ndarray, cols: np.ndarray, n: int, weights: np.ndarray | None = None):
    """Instance ids (> 1000) present, their sizes, and per instance the histogram of predicted columns.

    ``inst``/``cols``/``weights`` are per-pixel values or per-run values with their run lengths (:func:`run_values`).
    """
    sel = inst > 1000
    ids = inst[sel].astype(np.intp)
    if ids.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, n), np.int64)
    cols = cols[sel]
    weights = None if weights is None else weights[sel]
    if ids.max() < (1 << 22):  # dense relabelling without a sort (16-bit PNG ids are < 65536)
        uniq = np.flatnonzero(np.bincount(ids))
        lut = np.zeros(int(uniq[-1]) + 1, np.intp)
        lut[uniq] = np.arange(uniq.size)
        rows = lut[ids]
    else:
        uniq, rows = np.unique(ids, return_inverse=True)
    sizes = counts(rows, weights, uniq.size)
    hist = counts(rows * n + cols, weights, uniq.size * n).reshape(-1, n)
    return uniq.astype(np.int64), sizes, hist


def instance_histogram_torch(inst: torch.Tensor, cols: torch.Tensor, n: int):
    sel = inst.reshape(-1) > 1000
    ids = inst.reshape(-1)[sel].long()
    if ids.numel() == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, n), np.int64)
    uniq, inv, sizes = torch.unique(ids, return_inverse=True, return_counts=True)
    hist = torch.bincount(inv * n + cols.reshape(-1)[sel].long(), minlength=uniq.numel() * n).view(-1, n)
    return uniq.cpu().numpy(), sizes.cpu().numpy(), hist.cpu().numpy()
