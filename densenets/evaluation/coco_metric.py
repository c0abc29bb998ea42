"""COCO box evaluation (Lin et al., ECCV 2014; the protocol of pycocotools' ``COCOeval``) as an mmengine metric."""
from __future__ import annotations

import contextlib
import io
import json
import logging
import os
from typing import Any, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from ..datasets.coco_gt import CLIPPED, UNUSABLE, AnnotationError, check_box, is_image_info, read_coco_json
from ..registry import METRICS

__all__ = ["CocoMetric", "COCO_METRIC_NAMES", "LABEL_SPACES"]

#: what a model's labels index: ``"contiguous"`` the dataset's classes (``metainfo["cat_ids"][label]``, densenets'
#: models), ``"coco_category_ids"`` COCO's category ids 1..90 as ``label + 1`` (torchvision's COCO-trained detectors:
#: 91 outputs, index 0 the background, index i category id i, the 10 ids COCO does not use included)
LABEL_SPACES: tuple[str, ...] = ("contiguous", "coco_category_ids")
NUM_COCO_CATEGORY_IDS = 90

#: metric names, in the order of ``COCOeval.stats`` (``coco/`` is prepended by mmengine)
COCO_METRIC_NAMES: tuple[str, ...] = (
    "bbox_mAP",
    "bbox_mAP_50",
    "bbox_mAP_75",
    "bbox_mAP_s",
    "bbox_mAP_m",
    "bbox_mAP_l",
    "bbox_AR@1",
    "bbox_AR@10",
    "bbox_AR@100",
    "bbox_AR_s@100",
    "bbox_AR_m@100",
    "bbox_AR_l@100",
)


def _backend_api(backend: str) -> tuple[type, type]:
    if backend == "pycocotools":
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval

        return COCO, COCOeval
    if backend == "faster_coco_eval":
        from faster_coco_eval import COCO, COCOeval_faster

        return COCO, COCOeval_faster
    raise ValueError(f"CocoMetric: backend must be 'pycocotools' or 'faster_coco_eval', got {backend!r}")


@METRICS.register_module()
class CocoMetric(BaseMetric):
    """COCO box AP/AR of detections (the twelve ``COCOeval`` summary figures, reported as ``coco/bbox_mAP``,
    ``coco/bbox_mAP_50``, ``coco/bbox_mAP_75``, ``coco/bbox_mAP_s|m|l``, ``coco/bbox_AR@1|10|100``,
    ``coco/bbox_AR_s|m|l@100``; ``-1`` where the ground truth has no object of that size, as pycocotools reports).

    ``process()`` turns each prediction (docs/design.md: ``pred_boxes`` xyxy in original pixels, ``pred_scores``,
    contiguous ``pred_labels``) into COCO result records (``image_id``, original ``category_id`` through the
    dataset's ``metainfo["cat_ids"]``, ``bbox`` xywh, ``score``). On rank 0, ``compute_metrics()`` runs ``COCOeval``
    (``iouType="bbox"``) on the images that were processed, against ``ann_file`` (crowd boxes are ignore regions
    there, as in the official protocol).

    Args:
        ann_file: COCO ground-truth json; by default the dataset's (``dataset_meta["ann_file"]``).
        classwise: also log a per-class AP table and report ``coco/bbox_AP_<class>``.
        outfile_prefix: write the results to ``<outfile_prefix>.bbox.json``.
        format_only: only write the results json (e.g. for the test-dev server); needs ``outfile_prefix``.
        backend: ``"pycocotools"`` or ``"faster_coco_eval"`` (the same figures; the latter is faster).
        cat_ids: contiguous label -> category id, when the metric is used without a dataset; defaults to
            ``dataset_meta["cat_ids"]``, else the annotation file's categories in id order.
        label_space: one of :data:`LABEL_SPACES`; ``"coco_category_ids"`` scores a model whose labels are COCO
            category ids minus one (torchvision's COCO weights loaded with ``num_classes=90``; see
            ``tools/convert_torchvision_detector.py``). Detections of a category id that is not evaluated (the 10
            ids COCO leaves unused, or classes outside the dataset's ``metainfo["classes"]``) are left out of the
            scores and of the written results, with a logged count — as torchvision's reference evaluation, whose
            ``COCOeval`` scores the ground truth's categories only.

        gt_boxes: ``"json"`` (default; the official protocol) scores against the annotation file as pycocotools
            reads it; ``"cleaned"`` against the boxes :class:`~densenets.datasets.CocoDetection` trains on (the
            rules of :mod:`densenets.datasets.coco_gt`: boxes with a non-finite value, zero/negative size or
            entirely outside the image removed, boxes partly outside clipped, their ``area`` scaled alike).

    Ground-truth boxes the dataset cannot use are counted and logged in every evaluation: pycocotools keeps them as
    objects no detection can match (IoU 0 or NaN), so each one is a guaranteed miss — recall and AP are lower than
    the model's real figure (tests/evaluation/test_coco_metric_ground_truth.py: the dataset's own boxes fed back as
    detections score 1.000 mAP on the tiny demo val json, 0.876 with four such boxes added).
    ``gt_boxes="cleaned"`` removes that effect; official figures keep
    ``"json"``. No usable ground truth at all (every figure -1, or 0 when only unusable boxes remain) is a warning
    that says why.

    An empty result list (e.g. an untrained model that detects nothing) gives every figure 0 with a warning
    (pycocotools' ``loadRes`` cannot take an empty list).
    """

    default_prefix: str | None = "coco"

    def __init__(
        self,
        ann_file: str | None = None,
        classwise: bool = False,
        outfile_prefix: str | None = None,
        format_only: bool = False,
        backend: str = "pycocotools",
        cat_ids: Sequence[int] | None = None,
        gt_boxes: str = "json",
        label_space: str = "contiguous",
        collect_device: str = "cpu",
        prefix: str | None = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        _backend_api(backend)  # validate early
        if gt_boxes not in ("json", "cleaned"):
            raise ValueError(f"CocoMetric: gt_boxes must be 'json' or 'cleaned', got {gt_boxes!r}")
        self.gt_boxes = gt_boxes
        if label_space not in LABEL_SPACES:
            raise ValueError(f"CocoMetric: label_space must be one of {LABEL_SPACES}, got {label_space!r}")
        if label_space != "contiguous" and cat_ids is not None:
            raise ValueError(f"CocoMetric: label_space={label_space!r} defines the label -> category id map; "
                             "drop cat_ids")
        self.label_space = label_space
        if format_only and not outfile_prefix:
            raise ValueError("CocoMetric: format_only=True writes the results json and needs outfile_prefix")
        self.ann_file = ann_file
        self.classwise = classwise
        self.outfile_prefix = outfile_prefix
        self.format_only = format_only
        self.backend = backend
        self.cat_ids = tuple(int(c) for c in cat_ids) if cat_ids is not None else None

    # ------------------------------------------------------------------ dataset
    @property
    def dataset_meta(self) -> dict | None:
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: dict | None) -> None:
        """Set by the Runner's loop before the first batch: an image-info dataset (test-dev) that this metric would
        score is refused here, before a whole pass over the test set, rather than in :meth:`compute_metrics`."""
        if dataset_meta and dataset_meta.get("image_info") and not self.format_only and not self.ann_file:
            raise AnnotationError(self._image_info_message(dataset_meta.get("ann_file")))
        self._dataset_meta = dataset_meta

    def check_num_classes(self, num_classes: int) -> None:
        """Refuse a model whose labels this metric would read as other categories: ``label_space='contiguous'``
        needs as many classes as the evaluated dataset (or ``cat_ids``) has, ``'coco_category_ids'`` torchvision's
        90 category-id labels. Called by the Runner when it builds the val / test loop (``dataset_meta`` set)."""
        if self.label_space == "coco_category_ids":
            if num_classes != NUM_COCO_CATEGORY_IDS:
                raise ValueError(
                    f"CocoMetric: label_space='coco_category_ids' reads labels as COCO category ids (torchvision's "
                    f"{NUM_COCO_CATEGORY_IDS} + background outputs), but the model has {num_classes} classes: its "
                    "labels would be scored as other categories (drop label_space for a model of the dataset's "
                    "classes)")
            return
        cat_ids = self.cat_ids or (self.dataset_meta or {}).get("cat_ids")
        if cat_ids is not None and num_classes != len(cat_ids):
            where = (self.dataset_meta or {}).get("ann_file") or "cat_ids"
            hint = (" (torchvision's COCO weights, labels = category ids - 1: label_space='coco_category_ids')"
                    if num_classes == NUM_COCO_CATEGORY_IDS else "")
            raise ValueError(
                f"CocoMetric: the model has {num_classes} classes but {where} evaluates {len(cat_ids)}: its labels "
                f"would be scored as other categories{hint}")

    @staticmethod
    def _image_info_message(ann_file: str | None) -> str:
        return (f"CocoMetric: {ann_file} is an image-info file (no 'annotations', like COCO's test-dev): there is "
                "no ground truth to score against. Write the detections for the evaluation server instead: "
                "format_only=True with outfile_prefix (tools/test.py CONFIG CHECKPOINT --format-only --out-dir DIR)")

    # ------------------------------------------------------------------ per batch
    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            boxes = np.asarray(_to_numpy(sample["pred_boxes"]), dtype=np.float64).reshape(-1, 4)
            scores = np.asarray(_to_numpy(sample["pred_scores"]), dtype=np.float64).reshape(-1)
            labels = np.asarray(_to_numpy(sample["pred_labels"]), dtype=np.int64).reshape(-1)
            if not (len(boxes) == len(scores) == len(labels)):
                raise ValueError(
                    f"CocoMetric: image {sample.get('img_id')} has {len(boxes)} boxes, {len(scores)} scores and "
                    f"{len(labels)} labels"
                )
            xywh = boxes.copy()
            xywh[:, 2:] -= xywh[:, :2]
            self.results.append((int(sample["img_id"]), xywh, scores, labels))

    # ------------------------------------------------------------------ rank 0
    def _resolve_ann_file(self) -> str:
        ann_file = self.ann_file or (self.dataset_meta or {}).get("ann_file")
        if not ann_file:
            raise ValueError(
                "CocoMetric needs the ground-truth annotation file: pass ann_file=..., or evaluate a CocoDetection "
                "dataset (its metainfo carries ann_file)"
            )
        if not os.path.isfile(ann_file):
            raise FileNotFoundError(f"CocoMetric: annotation file not found: {ann_file}")
        return ann_file

    def _label_to_cat(self, dataset: dict) -> np.ndarray:
        if self.label_space == "coco_category_ids":
            return np.arange(1, NUM_COCO_CATEGORY_IDS + 1, dtype=np.int64)
        cat_ids = self.cat_ids or (self.dataset_meta or {}).get("cat_ids")
        if cat_ids is None:
            cat_ids = sorted(int(c["id"]) for c in dataset["categories"])
        return np.asarray(cat_ids, dtype=np.int64)

    def _evaluated_cats(self, dataset: dict, label_to_cat: np.ndarray, ann_file: str) -> list[int]:
        """The category ids that are scored: those the labels map to that the dataset evaluates (its
        ``metainfo["cat_ids"]``, else every category of ``ann_file``)."""
        evaluated = (self.dataset_meta or {}).get("cat_ids") or [int(c["id"]) for c in dataset["categories"]]
        evaluated = {int(c) for c in evaluated}
        cats = [c for c in dict.fromkeys(label_to_cat.tolist()) if c in evaluated]  # in label order
        if not cats:
            raise ValueError(
                f"CocoMetric: none of the category ids the labels map to ({label_space_text(self.label_space)}) is "
                f"evaluated on {ann_file} (categories {sorted(evaluated)[:10]}...): predictions "
                "in another id space?")
        return cats

    def _drop_unevaluated(self, records: list[dict[str, Any]], cats: list[int]) -> list[dict[str, Any]]:
        kept_ids = set(cats)
        kept = [r for r in records if r["category_id"] in kept_ids]
        if len(kept) < len(records):
            dropped = sorted({r["category_id"] for r in records} - kept_ids)
            print_log(f"CocoMetric: {len(records) - len(kept)} of {len(records)} detections are of category ids that "
                      f"are not evaluated ({dropped[:12]}{'...' if len(dropped) > 12 else ''}; "
                      f"{label_space_text(self.label_space)}): left out of the scores and the results file",
                      logger="current", level=logging.WARNING)
        return kept

    def results_to_records(self, results: list, label_to_cat: np.ndarray) -> list[dict[str, Any]]:
        """COCO result records (``image_id``, ``category_id``, ``bbox`` xywh, ``score``) of processed results."""
        records = []
        for img_id, xywh, scores, labels in results:
            if len(labels) and (labels.min() < 0 or labels.max() >= len(label_to_cat)):
                raise ValueError(
                    f"CocoMetric: image {img_id} has predicted labels outside 0..{len(label_to_cat) - 1} "
                    f"({label_space_text(self.label_space, len(label_to_cat))}; a model whose labels are COCO "
                    "category ids, e.g. torchvision's COCO weights, needs label_space='coco_category_ids')"
                )
            cats = label_to_cat[labels]
            for box, score, cat in zip(xywh.tolist(), scores.tolist(), cats.tolist()):
                records.append({"image_id": img_id, "category_id": cat, "bbox": box, "score": score})
        return records

    def compute_metrics(self, results: list) -> dict[str, float]:
        COCO, COCOeval = _backend_api(self.backend)
        ann_file = self._resolve_ann_file()
        # malformed records: an error naming the file and the record; an image-info file (test-dev) can only be
        # formatted for the server
        dataset = read_coco_json(ann_file, image_info_ok=True)
        if is_image_info(dataset) and not self.format_only:
            raise AnnotationError(self._image_info_message(ann_file))
        label_to_cat = self._label_to_cat(dataset)
        cats = self._evaluated_cats(dataset, label_to_cat, ann_file)
        records = self._drop_unevaluated(self.results_to_records(results, label_to_cat), cats)
        img_ids = sorted({r[0] for r in results})

        if self.outfile_prefix:
            path = f"{self.outfile_prefix}.bbox.json"
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                json.dump(records, f)
            print_log(f"CocoMetric: wrote {len(records)} detections to {path}", logger="current")
        if self.format_only:
            return {}

        unknown = set(img_ids) - {int(i["id"]) for i in dataset["images"]}
        if unknown:
            raise ValueError(
                f"CocoMetric: predictions for image ids {sorted(unknown)[:5]} not in {ann_file} "
                "(evaluating against the wrong annotation file?)"
            )
        audit = audit_ground_truth(dataset, img_ids, set(cats))
        self._log_audit(audit, ann_file, len(img_ids))
        if self.gt_boxes == "cleaned":
            dataset = cleaned_ground_truth(dataset)
        dataset = _with_defaults(dataset, ann_file)
        gt = COCO()
        gt.dataset = dataset
        with contextlib.redirect_stdout(io.StringIO()):
            gt.createIndex()
        if not records:
            print_log(
                f"CocoMetric: no detections on {len(img_ids)} images; every COCO figure is 0",
                logger="current",
                level=logging.WARNING,
            )
            metrics = {name: 0.0 for name in COCO_METRIC_NAMES}
            if self.classwise:
                metrics.update({f"bbox_AP_{self._cat_name(gt, c)}": 0.0 for c in cats})
            return metrics

        summary = io.StringIO()
        with contextlib.redirect_stdout(summary):
            dt = gt.loadRes(records)
            if self.backend == "faster_coco_eval":
                evaluator = COCOeval(gt, dt, "bbox", print_function=print)
            else:
                evaluator = COCOeval(gt, dt, "bbox")
            evaluator.params.imgIds = img_ids
            evaluator.params.catIds = sorted(cats)  # the dataset's classes (a subset or all)
            evaluator.evaluate()
            evaluator.accumulate()
            evaluator.summarize()
        table = [line for line in summary.getvalue().splitlines() if line.strip().startswith("Average")]
        print_log(f"CocoMetric ({self.backend}, {len(img_ids)} images):\n" + "\n".join(table), logger="current")
        metrics = {name: float(v) for name, v in zip(COCO_METRIC_NAMES, evaluator.stats[:12])}
        if self.classwise:
            metrics.update(self._classwise(evaluator, gt, cats))
        return metrics

    def _log_audit(self, audit: dict[str, int], ann_file: str, num_images: int) -> None:
        unusable = {r: audit[r] for r in UNUSABLE if audit[r]}
        n_bad = sum(unusable.values())
        if n_bad:
            effect = ("removed (gt_boxes='cleaned')" if self.gt_boxes == "cleaned" else
                      "kept, as pycocotools reads the json: no detection can match them, so each counts as a missed "
                      "object and recall/AP are lower than the model's (gt_boxes='cleaned' scores without them)")
            kinds = ", ".join(f"{n} {r.removesuffix(' dropped')}" for r, n in unusable.items())
            print_log(f"CocoMetric: {n_bad} of {audit['boxes']} ground-truth boxes in {ann_file} on the evaluated "
                      f"images are unusable ({kinds}); {effect}", logger="current", level=logging.WARNING)
        if audit["boxes"] - n_bad == 0:
            why = (f"its {audit['boxes']} boxes there are all unusable" if audit["boxes"] else
                   f"no annotation of the evaluated categories on them ({audit['crowd']} crowd regions, "
                   f"{audit['other_categories']} boxes of other categories)")
            print_log(f"CocoMetric: no usable ground truth on the {num_images} evaluated images of {ann_file}: "
                      f"{why}. pycocotools reports -1 for a figure without ground truth (0 when only unusable "
                      "boxes remain): these figures say nothing about the model", logger="current",
                      level=logging.WARNING)

    @staticmethod
    def _cat_name(gt: Any, cat_id: int) -> str:
        return str(gt.cats[cat_id]["name"]) if cat_id in gt.cats else str(cat_id)

    def _classwise(self, evaluator: Any, gt: Any, cats: Sequence[int]) -> dict[str, float]:
        # precision: [T iou thresholds, R recall points, K categories, A area ranges, M max-dets]
        precision = np.asarray(evaluator.eval["precision"])
        cat_index = {int(c): k for k, c in enumerate(evaluator.params.catIds)}
        rows, out = [], {}
        for cat in cats:
            k = cat_index.get(int(cat))
            p = precision[:, :, k, 0, -1] if k is not None else np.full((1,), -1.0)
            ap = float(p[p > -1].mean()) if (p > -1).any() else float("nan")
            p50 = precision[0, :, k, 0, -1] if k is not None else np.full((1,), -1.0)
            ap50 = float(p50[p50 > -1].mean()) if (p50 > -1).any() else float("nan")
            name = self._cat_name(gt, int(cat))
            rows.append((name, ap, ap50))
            out[f"bbox_AP_{name}"] = ap
        width = max([len(r[0]) for r in rows] + [8])
        lines = [f"{'category':<{width}}  {'AP':>6}  {'AP50':>6}", "-" * (width + 16)]
        lines += [f"{n:<{width}}  {ap * 100:6.2f}  {ap50 * 100:6.2f}" for n, ap, ap50 in rows]
        print_log("CocoMetric per-class AP (%):\n" + "\n".join(lines), logger="current")
        return out


def label_space_text(label_space: str, num_labels: int | None = None) -> str:
    """What a label means in ``label_space``, for messages."""
    if label_space == "coco_category_ids":
        return f"label_space='coco_category_ids': label l is category id l + 1, l < {NUM_COCO_CATEGORY_IDS}"
    return "label_space='contiguous': label l is the dataset's class l" + (
        f", the dataset has {num_labels} classes" if num_labels is not None else "")


def audit_ground_truth(dataset: dict, img_ids: Sequence[int], cat_ids: set[int]) -> dict[str, int]:
    """Counts over the non-crowd boxes of ``cat_ids`` on ``img_ids``: ``boxes``, each :data:`UNUSABLE` reason,
    ``clipped``; and ``crowd`` / ``other_categories`` annotations on those images."""
    sizes = {int(i["id"]): (int(i["height"]), int(i["width"])) for i in dataset["images"]}
    wanted = set(img_ids)
    counts = dict.fromkeys(("boxes", "crowd", "other_categories", "clipped", *UNUSABLE), 0)
    for ann in dataset["annotations"]:
        if ann["image_id"] not in wanted:
            continue
        if ann.get("iscrowd", 0):
            counts["crowd"] += 1
        elif ann["category_id"] not in cat_ids:
            counts["other_categories"] += 1
        else:
            counts["boxes"] += 1
            _, reason = check_box([float(v) for v in ann["bbox"]], *sizes[ann["image_id"]])
            if reason is not None:
                counts["clipped" if reason == CLIPPED else reason] += 1
    return counts


def _with_defaults(dataset: dict, ann_file: str) -> dict:
    """COCOeval reads every ground-truth ``area`` (its size ranges) and ``iscrowd``; an annotation without one gets
    the box area ``w * h`` / ``iscrowd=0`` (counted in the log), as COCO's own files have them for plain boxes."""
    defaults = {"area": lambda a: float(a["bbox"][2]) * float(a["bbox"][3]), "iscrowd": lambda a: 0}
    missing = {key: sum(key not in a for a in dataset["annotations"]) for key in defaults}
    if not any(missing.values()):
        return dataset
    absent = ", ".join(f"{n} annotations in {ann_file} have no '{k}'" for k, n in missing.items() if n)
    print_log(f"CocoMetric: {absent}; using the box area w*h / iscrowd=0", logger="current", level=logging.WARNING)
    return dict(dataset, annotations=[
        {**a, **{k: f(a) for k, f in defaults.items() if k not in a}} for a in dataset["annotations"]])


def cleaned_ground_truth(dataset: dict) -> dict:
    """A copy of a COCO dataset dict with the boxes :class:`~densenets.datasets.CocoDetection` uses (see
    :mod:`densenets.datasets.coco_gt`): unusable boxes removed, boxes partly outside clipped (``area`` scaled)."""
    sizes = {int(i["id"]): (int(i["height"]), int(i["width"])) for i in dataset["images"]}
    annotations = []
    for ann in dataset["annotations"]:
        bbox = [float(v) for v in ann["bbox"]]
        box, reason = check_box(bbox, *sizes[ann["image_id"]])
        if box is None:
            continue
        if reason == CLIPPED:
            x1, y1, x2, y2 = box
            area = ann.get("area")
            scale = (x2 - x1) * (y2 - y1) / (bbox[2] * bbox[3])
            area = float(area) * scale if isinstance(area, (int, float)) and np.isfinite(area) else (
                (x2 - x1) * (y2 - y1))
            ann = dict(ann, bbox=[x1, y1, x2 - x1, y2 - y1], area=area)
        annotations.append(ann)
    return dict(dataset, annotations=annotations)


def _to_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)
