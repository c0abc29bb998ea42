"""The official Cityscapes pixel-level scores (class/category IoU and their instance-weighted iIoU), computed fast.

This reproduces ``cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling`` (the protocol of the MobileNetV3
paper §6.4 and every Cityscapes table) exactly, on running sums whose size does not depend on the number of images:

* a confusion matrix, filled per image with one ``torch.bincount`` over ``row * num_cols + col`` (tensors, on their
  device) or, on the CPU, from a joint run-length encoding of the (ground truth, prediction, instance) maps: each
  run of pixels over which none of the three changes is counted once, weighted by its length (label maps have long
  runs, so everything after that one pass is small; noisy maps fall back to per-pixel ``cv2.calcHist``). In the
  trainId space the matrix is 20 x 20: the 19 classes plus one void row (ignored ground truth, skipped by every
  score) and one void column (predictions that are no class, which the official script counts as false negatives,
  so a 19 x 19 matrix could not reproduce it);
* per instance class and per instance category, the weighted true positives / false negatives of the iIoU. Every
  ground-truth instance (``instanceIds > 1000``; labelId = id // 1000; labels with ``ignoreInEval`` skipped) adds
  ``tp * w`` and ``fn * w`` with ``w = avgClassSize[class] / instance size``; the ``avgClassSize`` table is read from
  the official module. For a category, a pixel counts as a hit when the prediction is any label of the category
  that has instances (``caravan``/``trailer`` included, as in the official script).

The scores are then computed in the official labelId space with the official formulas: IoU = TP / (TP + FP + FN)
where FN counts every prediction on a pixel of the class that is not the class (predictions of ignored labels
included), and FP counts only pixels whose ground truth is an evaluated label (``ignoreInEval`` false). Averages
skip NaN entries (classes absent from ground truth and prediction).

Two input spaces are supported: ``"label"`` (ground truth and predictions as labelIds 0..33, what
``tools/eval_cityscapes.py`` reads) and ``"train"`` (trainIds 0..18 with 255 = ignore, what models predict;
predictions outside 0..18 count like a prediction of the void label ``unlabeled``). In the labelId space the
predictions may be trainIds explicitly (``pred_ids="train"``: mapped to labelIds, no-class ids to ``unlabeled``, as
:func:`~.cityscapes_writers.write_label_id_png` writes them); trainId files read as labelIds are detected
(:class:`TrainIdPredictionsError`) rather than scored near 0.

Counting kernels: :mod:`.cityscapes_kernels`; the score table, JSON and PNG writers: :mod:`.cityscapes_writers`;
matching prediction files to ground truth and evaluating them in parallel: :mod:`.cityscapes_files`.
"""
from __future__ import annotations

import logging
import math
from typing import Any, Sequence

import numpy as np
import torch
from cityscapesscripts.evaluation import evalPixelLevelSemanticLabeling as _official
from cityscapesscripts.helpers.labels import category2labels, id2label
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from ..datasets.cityscapes_labels import (
    IGNORE_INDEX, IGNORED_IN_EVAL, LABEL_NAMES, NUM_LABEL_IDS, NUM_TRAIN_IDS, TRAIN_TO_LABEL, CityscapesDataError,
    train_ids_to_label_ids)
from ..registry import METRICS
from .cityscapes_kernels import instance_histogram_numpy, instance_histogram_torch, joint_histogram, run_values
from .cityscapes_writers import format_scores, write_label_id_png

__all__ = ["AVG_CLASS_SIZE", "CityscapesAccumulator", "CityscapesMetric", "TrainIdPredictionsError"]

#: average pixel size of an instance per class on the training set, taken from the official evaluation module
AVG_CLASS_SIZE: dict[str, float] = dict(_official.args.avgClassSize)

_IGNORED = IGNORED_IN_EVAL
_NAMES = LABEL_NAMES
#: labelIds whose instances enter the iIoU (hasInstances and evaluated)
_INST_CLASSES = [i for i in range(NUM_LABEL_IDS) if id2label[i].hasInstances and not _IGNORED[i]]
#: categories whose labels (with id >= 0) all have instances, with those labelIds (ignored ones included)
_INST_CATEGORIES: dict[str, list[int]] = {
    cat: [lb.id for lb in lbs if lb.id >= 0]
    for cat, lbs in category2labels.items()
    if all(lb.hasInstances for lb in lbs if lb.id >= 0)
}
_CAT_NAMES = list(_INST_CATEGORIES)
_CAT_OF_LABEL = np.array(
    [_CAT_NAMES.index(id2label[i].category) if id2label[i].category in _INST_CATEGORIES else -1
     for i in range(NUM_LABEL_IDS)]
)
_INST_WEIGHT = np.array([AVG_CLASS_SIZE.get(_NAMES[i], math.nan) for i in range(NUM_LABEL_IDS)])


class TrainIdPredictionsError(CityscapesDataError):
    """LabelId predictions expected, but the whole prediction set looks like trainIds (no id >= 19 anywhere)."""


class CityscapesAccumulator:
    """Running sums of the official Cityscapes pixel-level evaluation for one input space (``"label"``/``"train"``).

    ``add(gt, pred, instances)`` takes one image (tensors or arrays, any device); ``merge`` adds another
    accumulator; ``scores()`` returns the official result dictionary (``classScores``, ``classInstScores``,
    ``categoryScores``, ``categoryInstScores`` and the four ``averageScore*`` fractions).

    Args:
        space: ``"label"`` (labelId ground truth) or ``"train"`` (trainId ground truth, 255 = ignore).
        pred_ids: the ids of the predictions, ``"label"`` or ``"train"`` (default: those of ``space``); trainId
            predictions against labelId ground truth are mapped to labelIds (ids other than 0..18 and 255 raise).
    """

    def __init__(self, space: str = "label", pred_ids: str | None = None) -> None:
        if space not in ("label", "train"):
            raise ValueError(f"space must be 'label' or 'train', got {space!r}")
        pred_ids = space if pred_ids is None else pred_ids
        if pred_ids not in ("label", "train") or (space == "train" and pred_ids != "train"):
            raise ValueError(f"pred_ids must be 'label' or 'train' ('train' only for space='train'), got {pred_ids!r}")
        self.space, self.pred_ids = space, pred_ids
        if space == "label":
            self.num_ids = NUM_LABEL_IDS
            self.to_label = np.arange(NUM_LABEL_IDS)
        else:  # trainIds 0..18 and one void row/column (index 19) standing for the labelId 0 'unlabeled'
            self.num_ids = NUM_TRAIN_IDS + 1
            self.to_label = np.concatenate([TRAIN_TO_LABEL.astype(np.int64), [0]])
        from_label = np.full(NUM_LABEL_IDS, -1)
        from_label[self.to_label[: (NUM_LABEL_IDS if space == "label" else NUM_TRAIN_IDS)]] = np.arange(
            NUM_LABEL_IDS if space == "label" else NUM_TRAIN_IDS)
        self._class_col = from_label  # labelId -> column of the prediction that hits it (-1: not predictable)
        # category membership of each column (instance categories only)
        self._cat_cols = np.zeros((len(_CAT_NAMES), self.num_ids), dtype=bool)
        for c, ids in enumerate(_INST_CATEGORIES.values()):
            cols = from_label[ids]
            self._cat_cols[c, cols[cols >= 0]] = True
        self.conf = np.zeros((self.num_ids, self.num_ids), dtype=np.int64)
        self.inst = np.zeros((4, NUM_LABEL_IDS), dtype=np.float64)  # tp, fn, tpWeighted, fnWeighted
        self.cat = np.zeros((4, len(_CAT_NAMES)), dtype=np.float64)
        self.num_images = 0
        self.num_images_without_instances = 0

    # ------------------------------------------------------------------ accumulation
    def _check(self, gt: Any, pred: Any, name: str) -> None:
        """Raise, naming the image, on ids that do not belong to this space (cheap min/max test first)."""
        lib = torch if isinstance(gt, torch.Tensor) else np
        if self.space == "label":
            checked = [("ground truth", gt)] + ([("prediction", pred)] if self.pred_ids == "label" else [])
            for what, t in checked:
                if t.shape.numel() if lib is torch else t.size:
                    if int(t.min()) < 0 or int(t.max()) >= NUM_LABEL_IDS:
                        bad = lib.unique(t[(t < 0) | (t >= NUM_LABEL_IDS)])[:10].tolist()
                        hint = (" (trainId 255? predictions must be labelIds, or trainIds evaluated with "
                                "--pred-ids train)") if what == "prediction" else ""
                        raise CityscapesDataError(f"{name}: {what} ids {bad} are not Cityscapes labelIds (0..33){hint}")
            if self.pred_ids == "train" and (pred.shape.numel() if lib is torch else pred.size):
                bad_mask = ((pred < 0) | (pred >= NUM_TRAIN_IDS)) & (pred != IGNORE_INDEX)
                if bool(bad_mask.any()):
                    bad = lib.unique(pred[bad_mask])[:10].tolist()
                    raise CityscapesDataError(
                        f"{name}: prediction ids {bad} are not trainIds (0..18, 255); are these labelIds? Then "
                        "evaluate them without --pred-ids train")
        elif (gt.shape.numel() if lib is torch else gt.size) and (int(gt.min()) < 0 or int(gt.max()) >= NUM_TRAIN_IDS):
            bad = lib.unique(gt[((gt < 0) | (gt >= NUM_TRAIN_IDS)) & (gt != IGNORE_INDEX)])[:10].tolist()
            if bad:
                raise CityscapesDataError(f"{name}: ground truth ids {bad} are not trainIds (0..18, 255)")

    def add(self, gt: Any, pred: Any, instances: Any = None, name: str = "<image>",
            on_device: bool | None = None) -> None:
        """Add one image: ``gt``/``pred`` (H x W ids of this space), ``instances`` (H x W instanceIds) or None.

        Tensors on an accelerator are counted there with ``torch.bincount`` (only the small histograms travel back);
        arrays and CPU tensors on the CPU with NumPy/OpenCV (:meth:`_add_arrays`), several times faster than torch's
        kernels there. Both give exactly the same sums. ``on_device=True`` counts tensors with torch wherever they
        are (CPU included), ``False`` always with NumPy.
        """
        tensors = [t for t in (gt, pred, instances) if isinstance(t, torch.Tensor)]
        if on_device is None:
            on_device = any(t.device.type != "cpu" for t in tensors)
        use_torch = bool(tensors) and on_device
        if use_torch:
            gt, pred = torch.as_tensor(gt), torch.as_tensor(pred)
            pred = pred.to(gt.device)
        else:  # CPU tensors share memory with these arrays
            gt, pred = (t.numpy() if isinstance(t, torch.Tensor) else np.asarray(t) for t in (gt, pred))
            if instances is not None:
                instances = instances.cpu().numpy() if isinstance(instances, torch.Tensor) else np.asarray(instances)
        if pred.ndim == 3 and pred.shape[0] == 1:
            pred = pred[0]
        if gt.ndim == 3 and gt.shape[0] == 1:
            gt = gt[0]
        if tuple(gt.shape) != tuple(pred.shape):
            raise CityscapesDataError(
                f"{name}: prediction is {tuple(pred.shape)} but ground truth is {tuple(gt.shape)}; predictions must be "
                "at the ground truth's (original) size"
            )
        if instances is not None and tuple(instances.shape) != tuple(gt.shape):
            raise CityscapesDataError(
                f"{name}: instance map is {tuple(instances.shape)}, ground truth {tuple(gt.shape)}")
        if use_torch:
            self._add_tensors(gt, pred, instances, name)
        else:
            self._add_arrays(gt, pred, instances, name)
        self.num_images += 1
        self.num_images_without_instances += int(instances is None)

    def _to_rows_and_cols(self, gt: Any, pred: Any) -> tuple[Any, Any]:
        """trainId space: ignored ground truth -> the void row, predictions outside 0..18 -> the void column;
        labelId space with trainId predictions: predictions mapped to labelIds (no class -> 0 'unlabeled')."""
        if self.space == "label":
            if self.pred_ids == "train":
                if isinstance(pred, torch.Tensor):
                    lut = torch.from_numpy(train_ids_to_label_ids(np.arange(256, dtype=np.uint8))).to(pred.device)
                    pred = lut[pred.long()]
                else:
                    pred = train_ids_to_label_ids(pred)
            return gt, pred
        void = self.num_ids - 1
        if isinstance(gt, torch.Tensor):
            return (torch.where(gt == IGNORE_INDEX, void, gt.long()),
                    torch.where((pred >= 0) & (pred < NUM_TRAIN_IDS), pred.long(), void))
        return (np.where(gt == IGNORE_INDEX, void, gt).astype(np.uint8),
                np.where((pred >= 0) & (pred < NUM_TRAIN_IDS), pred, void).astype(np.uint8))

    def _add_tensors(self, gt: torch.Tensor, pred: torch.Tensor, instances: Any, name: str) -> None:
        """Per-pixel ``torch.bincount`` on the tensors' device."""
        self._check(gt, pred, name)
        gt, pred = self._to_rows_and_cols(gt, pred)
        n = self.num_ids
        flat = gt.reshape(-1).to(torch.int16) * n + pred.reshape(-1).to(torch.int16)  # < 35 * 35
        self.conf += torch.bincount(flat.long(), minlength=n * n).view(n, n).cpu().numpy()
        if instances is not None:
            uniq, sizes, hist = instance_histogram_torch(torch.as_tensor(instances).to(gt.device), pred, n)
            if uniq.size:
                self._add_instances(uniq, sizes, hist, name)

    def _add_arrays(self, gt: np.ndarray, pred: np.ndarray, instances: np.ndarray | None, name: str) -> None:
        """Count runs of equal (ground truth, prediction, instance) triples once, weighted by their length.

        One joint run-length pass (:func:`~.cityscapes_kernels.run_values`) replaces the full-image work: the id
        checks, the id mapping and both histograms then touch one value per run instead of one per pixel.
        """
        maps = [gt, pred] if instances is None else [gt, pred, instances]
        values, lengths = run_values(maps)
        self._check(values[0], values[1], name)  # the same set of ids as the full maps
        rows, cols = self._to_rows_and_cols(values[0], values[1])
        self.conf += joint_histogram(rows, cols, self.num_ids, lengths)
        if instances is not None:
            uniq, sizes, hist = instance_histogram_numpy(values[2], cols, self.num_ids, lengths)
            if uniq.size:
                self._add_instances(uniq, sizes, hist, name)

    def _add_instances(self, uniq: np.ndarray, sizes: np.ndarray, hist: np.ndarray, name: str) -> None:
        """Per ground-truth instance (id, pixel count, histogram of predicted columns) -> weighted TP/FN sums."""
        label = uniq // 1000
        bad = (label >= NUM_LABEL_IDS)
        if bad.any():
            raise CityscapesDataError(f"{name}: instance ids {uniq[bad][:10].tolist()} encode labelIds outside 0..33")
        keep = ~_IGNORED[label]  # the official script skips instances of ignored labels (caravan, trailer)
        no_inst = keep & ~np.isin(label, _INST_CLASSES)
        if no_inst.any():
            raise CityscapesDataError(
                f"{name}: instance ids {uniq[no_inst][:10].tolist()} belong to labels without instances "
                f"({sorted({_NAMES[i] for i in label[no_inst]})}); instanceIds must be labelId*1000+k only for "
                "person, rider and vehicles"
            )
        label, sizes, hist = label[keep], sizes[keep], hist[keep]
        tp = hist[np.arange(label.size), self._class_col[label]].astype(np.float64)
        size = sizes.astype(np.float64)
        weight = _INST_WEIGHT[label] / size
        for row, values in enumerate((tp, size - tp, tp * weight, (size - tp) * weight)):
            np.add.at(self.inst[row], label, values)
        cat = _CAT_OF_LABEL[label]
        in_cat = cat >= 0
        cat_tp = (hist[in_cat] * self._cat_cols[cat[in_cat]]).sum(1).astype(np.float64)
        c_size, c_w, c = size[in_cat], weight[in_cat], cat[in_cat]
        for row, values in enumerate((cat_tp, c_size - cat_tp, cat_tp * c_w, (c_size - cat_tp) * c_w)):
            np.add.at(self.cat[row], c, values)

    def merge(self, other: "CityscapesAccumulator") -> "CityscapesAccumulator":
        if other.space != self.space:
            raise ValueError(f"cannot merge a {other.space!r}-space accumulator into a {self.space!r}-space one")
        self.conf += other.conf
        self.inst += other.inst
        self.cat += other.cat
        if other.pred_ids != self.pred_ids:
            raise ValueError(f"cannot merge {other.pred_ids!r} predictions into {self.pred_ids!r} ones")
        self.num_images += other.num_images
        self.num_images_without_instances += other.num_images_without_instances
        return self

    # ------------------------------------------------------------------ scores
    def label_confusion(self) -> np.ndarray:
        """The confusion matrix in the official labelId space (rows: ground truth, columns: prediction)."""
        if self.space == "label":
            return self.conf.copy()
        out = np.zeros((NUM_LABEL_IDS, NUM_LABEL_IDS), dtype=np.int64)
        np.add.at(out, (self.to_label[:, None], self.to_label[None, :]), self.conf)
        return out

    def check_prediction_ids(self) -> None:
        """Raise :class:`TrainIdPredictionsError` when labelId predictions are expected but no prediction of the
        whole set holds an id >= 19 although the ground truth has evaluated pixels of such labels (vegetation,
        terrain, sky, person, rider and the vehicles): trainId files (0..18), which would score an mIoU near 0."""
        if self.space != "label" or self.pred_ids != "label" or self.num_images == 0:
            return
        high = np.arange(NUM_LABEL_IDS) >= NUM_TRAIN_IDS
        gt_high = int(self.conf[high & ~_IGNORED].sum())
        if gt_high and not self.conf[:, high].any():
            names = ", ".join(_NAMES[i] for i in np.flatnonzero(high & ~_IGNORED))
            raise TrainIdPredictionsError(
                f"the predictions look like trainIds, not labelIds: none of the {self.num_images} prediction images "
                f"holds an id >= {NUM_TRAIN_IDS}, although {gt_high} ground-truth pixels are labels with such ids "
                f"({names}). Scored as labelIds they would give an mIoU near 0. Evaluate them as trainIds with "
                "--pred-ids train (CityscapesAccumulator(pred_ids='train')), or write labelId PNGs "
                "(densenets.evaluation.cityscapes_writers.write_label_id_png maps trainIds to labelIds).")

    def scores(self) -> dict[str, Any]:
        """The official result dictionary; iIoU entries are NaN if some image came without instance ids.

        Raises :class:`TrainIdPredictionsError` for a trainId-looking prediction set (:meth:`check_prediction_ids`).
        """
        self.check_prediction_ids()
        m = self.label_confusion()
        evaluated = ~_IGNORED
        row_sum = m.sum(1)
        col_eval = m[evaluated].sum(0)  # per predicted label: pixels whose ground truth is evaluated
        with_inst = self.num_images_without_instances == 0

        def iou(tp: float, fp: int, fn: float) -> float:
            denom = tp + fp + fn
            return float("nan") if denom == 0 else float(tp) / float(denom)

        class_scores, class_inst = {}, {}
        for i in range(NUM_LABEL_IDS):
            name = _NAMES[i]
            if _IGNORED[i]:
                class_scores[name] = class_inst[name] = float("nan")
                continue
            tp = int(m[i, i])
            fp = int(col_eval[i]) - tp
            class_scores[name] = iou(tp, fp, int(row_sum[i]) - tp)
            inst_ok = with_inst and i in _INST_CLASSES
            class_inst[name] = iou(self.inst[2, i], fp, self.inst[3, i]) if inst_ok else float("nan")
        cat_scores, cat_inst = {}, {}
        for cat, lbs in category2labels.items():
            ids = [lb.id for lb in lbs if lb.id >= 0 and not lb.ignoreInEval]
            outside = [j for j in range(NUM_LABEL_IDS) if evaluated[j] and id2label[j].category != cat]
            if ids:
                tp = int(m[np.ix_(ids, ids)].sum())
                cat_scores[cat] = iou(tp, int(m[np.ix_(outside, ids)].sum()), int(row_sum[ids].sum()) - tp)
            else:
                cat_scores[cat] = float("nan")
            if with_inst and cat in _INST_CATEGORIES:
                c = _CAT_NAMES.index(cat)
                fp = int(m[np.ix_(outside, _INST_CATEGORIES[cat])].sum())
                cat_inst[cat] = iou(self.cat[2, c], fp, self.cat[3, c])
            else:
                cat_inst[cat] = float("nan")

        def mean(d: dict[str, float]) -> float:
            vals = [v for v in d.values() if not math.isnan(v)]
            return sum(vals) / len(vals) if vals else float("nan")

        return dict(
            classScores=class_scores,
            classInstScores=class_inst,
            categoryScores=cat_scores,
            categoryInstScores=cat_inst,
            averageScoreClasses=mean(class_scores),
            averageScoreInstClasses=mean(class_inst),
            averageScoreCategories=mean(cat_scores),
            averageScoreInstCategories=mean(cat_inst),
            confMatrix=m.tolist(),
            numImages=self.num_images,
        )


@METRICS.register_module()
class CityscapesMetric(BaseMetric):
    """Cityscapes val metric with the official definitions (MobileNetV3 §6.4 reports its class mIoU).

    Reads ``pred_sem_seg`` (trainIds, original size), ``gt_sem_seg`` (trainIds, 255 ignore) and ``gt_instance``
    (instanceIds) of each sample. Keeps one running :class:`CityscapesAccumulator` per process, so memory does not
    grow with the number of images (use a sampler with ``round_up=False`` for multi-process evaluation, or the
    padding duplicates are counted). Returns ``mIoU`` (percent, first, for ``save_best``), the official
    ``averageScoreClasses``, ``averageScoreInstClasses``, ``averageScoreCategories``, ``averageScoreInstCategories``
    (fractions) and ``IoU.<class>`` / ``iIoU.<class>`` per class (fractions).

    Args:
        output_dir: if set, also write each prediction as a labelId PNG ``<output_dir>/<city>/<city>_<seq>_<frame>
            _pred_labelIds.png``, the format of the official evaluator and the benchmark server.
        format_only: only write the PNGs (test split, no labels); needs ``output_dir``.
    """

    default_prefix = None

    def __init__(self, output_dir: str | None = None, format_only: bool = False,
                 collect_device: str = "cpu", prefix: str | None = None, **kwargs: Any) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, **kwargs)
        if format_only and not output_dir:
            raise ValueError("CityscapesMetric(format_only=True) needs output_dir to write the predictions to")
        self.output_dir = output_dir
        self.format_only = format_only

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        if not self.results:
            self.results.append(CityscapesAccumulator("train"))
        acc: CityscapesAccumulator = self.results[0]
        for s in data_samples:
            pred = s["pred_sem_seg"]
            name = s.get("img_path", "<image>")
            if self.output_dir:
                self._write(pred, name)
            if self.format_only:
                acc.num_images += 1
                continue
            if "gt_sem_seg" not in s:
                raise CityscapesDataError(f"{name}: no 'gt_sem_seg' to evaluate against (use format_only=True)")
            acc.add(s["gt_sem_seg"], pred, s.get("gt_instance"), name=name)

    def _write(self, pred: Any, img_path: str) -> None:
        pred = torch.as_tensor(pred).long().cpu().numpy()
        if pred.ndim == 3 and pred.shape[0] == 1:
            pred = pred[0]
        write_label_id_png(pred, img_path, self.output_dir)

    def compute_metrics(self, results: list) -> dict[str, float]:
        acc = CityscapesAccumulator("train")
        for part in results:
            acc.merge(part)
        if self.format_only:
            print_log(f"CityscapesMetric: wrote {acc.num_images} labelId PNGs to {self.output_dir}", logger="current")
            return {}
        s = acc.scores()
        if acc.num_images_without_instances:
            print_log(f"CityscapesMetric: {acc.num_images_without_instances} of {acc.num_images} images came without "
                      "'gt_instance'; the iIoU scores are NaN", logger="current", level=logging.WARNING)
        print_log("\n" + format_scores(s), logger="current")
        out: dict[str, float] = {"mIoU": 100.0 * s["averageScoreClasses"]}
        for key in ("averageScoreClasses", "averageScoreInstClasses", "averageScoreCategories",
                    "averageScoreInstCategories"):
            out[key] = s[key]
        for i in range(NUM_LABEL_IDS):
            if not _IGNORED[i]:
                out[f"IoU.{_NAMES[i].replace(' ', '_')}"] = s["classScores"][_NAMES[i]]
        for i in _INST_CLASSES:
            out[f"iIoU.{_NAMES[i].replace(' ', '_')}"] = s["classInstScores"][_NAMES[i]]
        return out
