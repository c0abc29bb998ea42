"""Evaluator speed on the same inputs, with the figures asserted equal: ours vs the official Cityscapes script, and
COCO's two backends (pycocotools vs faster-coco-eval).

Both are timed with ``densenets.analysis.timing.time_interleaved_cpu`` (rounds alternate between the candidates) and
report the best round (``Timing.min``) of wall time and of CPU time (user + system, worker processes included).

* Cityscapes (:func:`cityscapes_eval_benchmark`): N Cityscapes-layout 1024x2048 ground-truth pairs (labelIds +
  instanceIds: street scenes of the demo generator upsampled x4, or drawn at full resolution, with about as many
  person/vehicle instances per image as real Cityscapes unless ``crowd=False``) and labelId predictions (the ground
  truth shifted by a few pixels with wrong blocks, like a model's boundary and region errors), all written with
  Pillow as cityscapesscripts writes the real ground truth. The official
  ``evalPixelLevelSemanticLabeling.evaluateImgLists`` (pure-Python path; its Cython extension is not in the wheel)
  against ours with 1..N worker processes; the four averages must agree to 1e-6. On a shared machine the
  single-process CPU-time ratio is the stable figure: k workers on k idle cores are about k / ratio times faster.
* COCO (:func:`coco_eval_benchmark`): a val2017-like ground truth (N images of 640x480, COCO's 80 category ids, ~7
  boxes per image of all three sizes, some crowd) and ~100 detections per image like a detector's (jittered
  ground-truth boxes with high scores, background boxes with low ones), written once; then ``CocoMetric`` with
  ``backend="pycocotools"`` and with ``backend="faster_coco_eval"`` evaluates the same results — the code path of
  ``tools/test.py`` (loading the annotation file, ``loadRes``, evaluate, accumulate, summarize). The twelve figures
  must be equal to 1e-9.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .bench_inputs import BenchmarkInputError
from .timing import time_interleaved_cpu

GT_SUBDIR = ("gtFine", "val")  # the official layout, so that the official command line finds the files
CITYSCAPES_KEYS = ("averageScoreClasses", "averageScoreInstClasses", "averageScoreCategories",
                   "averageScoreInstCategories")


# -- Cityscapes -------------------------------------------------------------------------------------------------
def ours_cityscapes_evaluator(gt_dir: str, pred_dir: str) -> Callable[[int], dict[str, float]]:
    """The one adapter to densenets' file-based Cityscapes evaluation: match ``pred_dir``'s labelId PNGs to the
    ground truth under ``gt_dir`` (once, untimed) and return ``evaluate(workers) -> the four averages``."""
    from ..evaluation import cityscapes_files as tool  # what tools/eval_cityscapes.py runs

    matches = tool.match_predictions(tool.find_ground_truth(gt_dir), tool.index_predictions(pred_dir))
    pairs, missing, ambiguous = matches.pairs, matches.missing, matches.ambiguous
    if missing or ambiguous:
        raise BenchmarkInputError(f"{pred_dir}: {len(missing)} ground-truth images without a prediction, "
                                  f"{len(ambiguous)} with several")
    return lambda workers: tool.evaluate_pairs(pairs, workers).scores()


def write_cityscapes_pairs(out_dir: str, n: int, seed: int = 0, crowd: bool = True,
                           full_res: bool = False) -> tuple[list[str], list[str], int]:
    """N full-resolution gt/pred pairs; returns (pred files, gt files, number of evaluated instances)."""
    import cv2
    from PIL import Image

    from densenets.datasets.demo.cityscapes_demo import draw_street_scene

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


def official_cityscapes(preds: list[str], gts: list[str]) -> dict[str, float]:
    from cityscapesscripts.evaluation import evalPixelLevelSemanticLabeling as official

    if not hasattr(np, "in1d"):  # cityscapesscripts 2.3.0 calls np.in1d, removed in NumPy 2.4
        np.in1d = np.isin
    official.args.quiet = True
    official.args.JSONOutput = False
    scores = official.evaluateImgLists(preds, gts, official.args)
    return {k: float(scores[k]) for k in CITYSCAPES_KEYS}


def cityscapes_eval_benchmark(num_images: int, workers: Sequence[int], repeat: int, seed: int = 0,
                              crowd: bool = True, full_res: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        preds, gts, n_inst = write_cityscapes_pairs(tmp, num_images, seed, crowd, full_res)
        ours = ours_cityscapes_evaluator(os.path.join(tmp, *GT_SUBDIR), os.path.join(tmp, "pred"))
        scores: dict[str, dict[str, float]] = {}

        def job(name: str, fn: Callable[[], dict[str, float]]) -> Callable[[], None]:
            return lambda: scores.__setitem__(name, fn())

        fns = {"official": job("official", lambda: official_cityscapes(preds, gts))}
        fns.update({f"ours, {w} worker(s)": job(f"ours, {w} worker(s)", lambda w=w: ours(w)) for w in workers})
        t = time_interleaved_cpu(fns, runs=repeat, warmup=0)
    ref = scores["official"]
    for name, s in scores.items():
        for k in CITYSCAPES_KEYS:
            if abs(s[k] - ref[k]) >= 1e-6:
                raise AssertionError(f"{name}: {k} = {s[k]} but the official script gives {ref[k]}")
    return {"num_images": num_images, "instances_per_image": n_inst / num_images, "scores": ref,
            "ms_per_image": {name: dict(wall=1e3 * wall.min / num_images, cpu=1e3 * cpu.min / num_images)
                             for name, (wall, cpu) in t.items()}}


def format_cityscapes_eval(r: dict[str, Any]) -> str:
    times = r["ms_per_image"]
    ref = times["official"]
    lines = [f"{r['num_images']} image pairs of 1024x2048, {r['instances_per_image']:.1f} evaluated instances per "
             "image; best round"]
    for name, t in times.items():
        line = f"{name:<20}: wall {t['wall']:6.1f} ms/image, CPU {t['cpu']:6.1f} ms/image"
        if name != "official":
            line += f"  wall speed-up x{ref['wall'] / t['wall']:.1f}, CPU time {t['cpu'] / ref['cpu']:.2f} x official's"
        lines.append(line)
    one = times.get("ours, 1 worker(s)")
    if one is not None:
        ratio = one["cpu"] / ref["cpu"]
        lines.append(f"single-process CPU time ratio {ratio:.2f}: on k idle cores, k workers would be about "
                     f"x{1 / ratio:.1f} * k faster than the official script (x{2 / ratio:.1f} on 2)")
    s = r["scores"]
    lines.append(f"scores agree to 1e-6: mIoU {s['averageScoreClasses']:.6f}  iIoU {s['averageScoreInstClasses']:.6f}"
                 f"  catIoU {s['averageScoreCategories']:.6f}  cat-iIoU {s['averageScoreInstCategories']:.6f}")
    return "\n".join(lines)


# -- COCO -------------------------------------------------------------------------------------------------------
# COCO's 80 category ids (1..90 with gaps), as instances_val2017.json lists them
COCO_CAT_IDS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31,
                32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57,
                58, 59, 60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87,
                88, 89, 90)


def write_coco_detections(ann_file: str, num_images: int, dets_per_image: int = 100, seed: int = 0
                          ) -> list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """Write a val2017-like ground truth to ``ann_file``; return detections in ``CocoMetric.results`` form
    ``(img_id, boxes xywh, scores, contiguous labels)``."""
    rng = np.random.default_rng(seed)
    h, w = 480, 640
    images, anns, results = [], [], []
    for img_id in range(1, num_images + 1):
        images.append(dict(id=img_id, width=w, height=h, file_name=f"{img_id:012d}.jpg"))
        n = int(rng.integers(1, 15))
        side = np.exp(rng.uniform(np.log(8), np.log(400), n))  # small, medium and large objects
        wh = np.stack([side * rng.uniform(0.5, 1.5, n), side * rng.uniform(0.5, 1.5, n)], 1).clip(2, [w - 1, h - 1])
        xy = rng.uniform(0, 1, (n, 2)) * ([w, h] - wh)
        gt = np.concatenate([xy, wh], 1)
        labels = rng.integers(0, len(COCO_CAT_IDS), n)
        for box, label in zip(gt, labels):
            anns.append(dict(id=len(anns) + 1, image_id=img_id, category_id=COCO_CAT_IDS[label], bbox=box.tolist(),
                             area=float(box[2] * box[3]), iscrowd=int(rng.random() < 0.02)))
        # detections: every object found (jittered, high score) with a few wrong labels, then background boxes
        k = dets_per_image - n
        jitter = gt + rng.normal(0, 0.08, gt.shape) * gt[:, [2, 3, 2, 3]]
        bg_wh = np.exp(rng.uniform(np.log(8), np.log(300), (k, 2)))
        bg = np.concatenate([rng.uniform(0, 1, (k, 2)) * ([w, h] - bg_wh).clip(1), bg_wh], 1)
        boxes = np.concatenate([jitter, bg]).clip(0)
        det_labels = np.concatenate([np.where(rng.random(n) < 0.1, rng.integers(0, 80, n), labels),
                                     rng.integers(0, 80, k)])
        scores = np.concatenate([rng.uniform(0.3, 1.0, n), rng.uniform(0.0, 0.4, k)])
        results.append((img_id, boxes, scores, det_labels.astype(np.int64)))
    cats = [dict(id=c, name=f"class_{c}", supercategory="thing") for c in COCO_CAT_IDS]
    with open(ann_file, "w", encoding="utf-8") as f:
        json.dump(dict(images=images, annotations=anns, categories=cats), f)
    return results


def coco_eval_benchmark(num_images: int, repeat: int, dets_per_image: int = 100, seed: int = 0) -> dict[str, Any]:
    from densenets.evaluation.coco_metric import CocoMetric

    backends = ("pycocotools", "faster_coco_eval")
    figures: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        ann_file = os.path.join(tmp, "instances_val.json")
        results = write_coco_detections(ann_file, num_images, dets_per_image, seed)

        def job(backend: str) -> Callable[[], None]:
            metric = CocoMetric(ann_file=ann_file, backend=backend, cat_ids=COCO_CAT_IDS)
            return lambda: figures.__setitem__(backend, metric.compute_metrics(results))

        t = time_interleaved_cpu({b: job(b) for b in backends}, runs=repeat, warmup=0)
    ref = figures["pycocotools"]
    for name, v in figures["faster_coco_eval"].items():
        if abs(v - ref[name]) > 1e-9:
            raise AssertionError(f"faster_coco_eval: {name} = {v} but pycocotools gives {ref[name]}")
    return {"num_images": num_images, "detections": sum(len(r[2]) for r in results), "figures": ref,
            "seconds": {b: dict(wall=wall.min, cpu=cpu.min) for b, (wall, cpu) in t.items()}}


def format_coco_eval(r: dict[str, Any]) -> str:
    s = r["seconds"]
    ref = s["pycocotools"]
    lines = [f"COCO evaluation of {r['detections']} detections on {r['num_images']} images (best round)"]
    for backend, t in s.items():
        lines.append(f"  {backend:<17}: wall {t['wall']:7.2f} s, CPU {t['cpu']:7.2f} s"
                     + (f"  (x{ref['wall'] / t['wall']:.1f} wall, x{ref['cpu'] / t['cpu']:.1f} CPU)"
                        if backend != "pycocotools" else ""))
    f = r["figures"]
    lines.append(f"  figures equal (1e-9): mAP {f['bbox_mAP']:.6f}  mAP_50 {f['bbox_mAP_50']:.6f}  "
                 f"AR@100 {f['bbox_AR@100']:.6f}")
    return "\n".join(lines)
