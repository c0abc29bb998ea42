"""COCO-format detection dataset (Lin et al., "Microsoft COCO: Common Objects in Context", ECCV 2014)."""
from __future__ import annotations

import contextlib
import io
import logging
import os
from collections import defaultdict
from typing import Any, Sequence

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from pycocotools.coco import COCO

from ..registry import DATASETS, TRANSFORMS
from .coco_gt import check_box, is_image_info, read_coco_json
from .image_io import BadImageError

__all__ = ["CocoDetection", "coco_missing_message"]

_NUM_NAMED = 5  # how many file names the once-per-dataset log lists for each problem


def coco_missing_message(what: str, path: str, data_root: str) -> str:
    """The error text for a missing COCO file or folder: what to download, where to put it, and the demo data."""
    root = data_root or "data/coco"
    return (
        f"COCO {what} not found: {path}\n"
        "Download the official COCO 2017 detection data from https://cocodataset.org/#download:\n"
        "  http://images.cocodataset.org/zips/train2017.zip\n"
        "  http://images.cocodataset.org/zips/val2017.zip\n"
        "  http://images.cocodataset.org/annotations/annotations_trainval2017.zip\n"
        f"and unzip all three into {root}/ so that it holds annotations/instances_train2017.json, "
        "annotations/instances_val2017.json, train2017/ and val2017/.\n"
        "To try densenets without COCO, run `make demo`, or generate the small synthetic COCO-format set with "
        "`python tools/make_demo_data.py coco --out data/demo_coco` and use configs/_base_/datasets/demo_coco.py."
    )


@DATASETS.register_module()
class CocoDetection(BaseDataset):
    """COCO detection boxes read through pycocotools, as the batch contract of docs/design.md.

    Categories are mapped to contiguous labels ``0..K-1`` in the order of ``metainfo["classes"]``;
    ``metainfo["cat_ids"][label]`` maps back to the COCO category id (COCO's ids run 1..90 with gaps). Without
    ``metainfo=dict(classes=...)`` all categories of the file are used, ordered by id; with it, only the named
    categories (in the given order) are kept — annotations of other categories are left out of the targets.
    ``metainfo`` also carries ``ann_file`` so that :class:`~densenets.evaluation.CocoMetric` can find the ground truth.

    Annotation handling (counted per reason and logged once per dataset, with the first few file names):

    * ``iscrowd=1`` boxes are never training targets (they are ignore regions; the evaluator reads them from the
      json).
    * A box with zero or negative width/height, or a non-finite value, is dropped.
    * A box partly outside the image is clipped to it; a box entirely outside is dropped.
    * An annotation whose ``category_id`` is not declared in ``categories`` is an **error** naming the annotation
      file and the annotation id: the file is inconsistent, and the evaluator (which reads the same file) would
      silently score against a different set of objects than the one trained on.
    * Images without (usable) objects are kept in ``test_mode`` (they count for evaluation: every detection on them
      is a false positive); for training ``filter_empty_gt=True`` (default) leaves them out.
    * A malformed record (a ``bbox`` of 3 numbers, no ``bbox``, an image without ``width``) is an error naming the file
      and the record; a dataset left with no image (an empty json, or filtering removed every image — no
      annotations, crowd-only) is an error that says what was filtered and why.
      The rules are :mod:`densenets.datasets.coco_gt`'s, shared with :class:`~densenets.evaluation.CocoMetric`.

    Image files (see :mod:`densenets.datasets.image_io`): grayscale, RGBA, CMYK, palette and 16-bit images are
    converted to RGB; EXIF orientation is not applied (COCO's annotations are in the raw pixel orientation). A size
    in the json that differs from the file's real size is always an error naming the file (the boxes would be wrong).
    A missing, unreadable or truncated image:

    * ``on_bad_image="skip"`` (default): in training the image is skipped, a warning names it with the running count,
      and another random image is drawn (mmengine's refetch), so one bad file does not end a long run.
    * ``on_bad_image="raise"``: raise, naming the file.
    * In ``test_mode`` a bad image always raises: evaluation on a silently smaller set gives wrong figures.

    An image-info file (``images`` and ``categories``, no ``annotations``: COCO's ``image_info_test-dev2017.json``) is
    read in ``test_mode`` only, as images without objects to predict on; ``metainfo["image_info"]`` is then True and
    :class:`~densenets.evaluation.CocoMetric` accepts it only with ``format_only=True`` (the detections written for
    the evaluation server). For training it is an error that says so (:mod:`densenets.datasets.coco_gt`).

    Args:
        ann_file: COCO json, relative to ``data_root`` unless absolute.
        data_root: dataset folder (``data/coco``).
        data_prefix: ``dict(img="train2017/")``: the image folder, relative to ``data_root``.
        pipeline: list of transform configs or callables (registered TRANSFORMS).
        test_mode: evaluation dataset (keeps every image; bad images raise).
        filter_empty_gt: in training, leave out images with no usable boxes.
        on_bad_image: ``"skip"`` or ``"raise"`` (training only; see above).
        metainfo: ``dict(classes=(...))`` to select and order a subset of categories.
    """

    METAINFO: dict = {}

    def __init__(
        self,
        ann_file: str = "annotations/instances_train2017.json",
        data_root: str = "data/coco",
        data_prefix: dict | None = None,
        pipeline: Sequence[dict | Any] = (),
        test_mode: bool = False,
        filter_empty_gt: bool = True,
        on_bad_image: str = "skip",
        metainfo: dict | None = None,
        **kwargs: Any,
    ) -> None:
        if on_bad_image not in ("skip", "raise"):
            raise ValueError(f"CocoDetection: on_bad_image must be 'skip' or 'raise', got {on_bad_image!r}")
        self.filter_empty_gt = filter_empty_gt
        self.on_bad_image = on_bad_image
        self.num_bad_images = 0
        self.problems: dict[str, list[str]] = {}
        super().__init__(
            ann_file=ann_file,
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=dict(img="") if data_prefix is None else dict(data_prefix),
            # built from densenets' registry so that plain-Python use needs no default_scope
            pipeline=[TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline],
            test_mode=test_mode,
            **kwargs,
        )

    # ------------------------------------------------------------------ loading
    def _check_paths(self) -> None:
        if not os.path.isfile(self.ann_file):
            if self.data_root and not os.path.isdir(self.data_root):
                raise FileNotFoundError(coco_missing_message("data folder", self.data_root, self.data_root))
            raise FileNotFoundError(coco_missing_message("annotation file", self.ann_file, self.data_root))
        img_dir = self.data_prefix.get("img", "")
        if img_dir and not os.path.isdir(img_dir):
            raise FileNotFoundError(coco_missing_message("image folder", img_dir, self.data_root))

    def _load_coco(self) -> COCO:
        # every record checked (errors name the file and the record); an image-info file (test-dev) only to test
        dataset = read_coco_json(self.ann_file, image_info_ok=self.test_mode)
        coco = COCO()
        coco.dataset = dataset
        with contextlib.redirect_stdout(io.StringIO()):
            coco.createIndex()
        return coco

    def _resolve_classes(self, coco: COCO) -> tuple[tuple[str, ...], tuple[int, ...]]:
        cats = sorted(coco.dataset["categories"], key=lambda c: c["id"])
        name_to_id = {c["name"]: int(c["id"]) for c in cats}
        wanted = self._metainfo.get("classes")
        if wanted is None:
            return tuple(c["name"] for c in cats), tuple(int(c["id"]) for c in cats)
        wanted = (wanted,) if isinstance(wanted, str) else tuple(wanted)
        unknown = [c for c in wanted if c not in name_to_id]
        if unknown:
            raise ValueError(
                f"{self.ann_file}: metainfo classes {unknown} are not categories of this file "
                f"(it has: {sorted(name_to_id)})"
            )
        return wanted, tuple(name_to_id[c] for c in wanted)

    def load_data_list(self) -> list[dict]:
        self._check_paths()
        coco = self._load_coco()
        classes, cat_ids = self._resolve_classes(coco)
        self._metainfo.update(classes=classes, cat_ids=cat_ids, ann_file=self.ann_file,
                              image_info=is_image_info(coco.dataset))
        declared = {int(c["id"]) for c in coco.dataset["categories"]}
        cat2label = {cid: i for i, cid in enumerate(cat_ids)}
        img_dir = self.data_prefix.get("img", "")
        problems: dict[str, list[str]] = defaultdict(list)

        data_list = []
        for img_id in sorted(coco.imgs):
            info = coco.imgs[img_id]
            h, w = int(info["height"]), int(info["width"])  # checked by read_coco_json
            file_name = info["file_name"]
            boxes, labels = [], []
            for ann in coco.imgToAnns.get(img_id, []):
                cid = ann.get("category_id")
                if cid not in declared:
                    raise ValueError(
                        f"{self.ann_file}: annotation id {ann.get('id')} (image {img_id}, {file_name}) names "
                        f"category_id {cid}, which is not declared in 'categories'"
                    )
                if ann.get("iscrowd", 0):
                    problems["crowd boxes excluded from training targets"].append(file_name)
                    continue
                if cid not in cat2label:
                    continue
                box, reason = check_box([float(v) for v in ann["bbox"]], h, w)
                if reason is not None:
                    problems[reason].append(file_name)
                if box is None:
                    continue
                x1, y1, x2, y2 = box
                boxes.append((x1, y1, x2, y2))
                labels.append(cat2label[cid])
            data_list.append(
                {
                    "img_id": int(img_id),
                    "img_path": os.path.join(img_dir, file_name),
                    "height": h,
                    "width": w,
                    "gt_boxes": np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
                    "gt_labels": np.asarray(labels, dtype=np.int64),
                }
            )
        self.problems = dict(problems)
        return data_list

    def filter_data(self) -> list[dict]:
        if self.test_mode or not self.filter_empty_gt:
            kept = self.data_list
        else:
            kept = [d for d in self.data_list if len(d["gt_labels"])]
            empty = [os.path.basename(d["img_path"]) for d in self.data_list if not len(d["gt_labels"])]
            if empty:
                self.problems["images without objects left out of training (filter_empty_gt)"] = empty
        self._log_problems(len(kept))
        if not kept:
            raise ValueError(self._empty_message())
        return kept

    def _empty_message(self) -> str:
        """Why nothing is left: the json has no images, or every image lost its objects (and why)."""
        mode = "evaluation" if self.test_mode else "training"
        if not self.data_list:
            return f"{self.ann_file}: no images in the annotation file; nothing to use for {mode}"
        counts = {r: len(f) for r, f in self.problems.items() if not r.startswith("images without")}
        why = "; ".join(f"{n} {r}" for r, n in counts.items()) or "the file has no annotations of the used classes"
        classes = ", ".join(self._metainfo["classes"]) if self._metainfo.get("classes") else "none"
        return (f"{self.ann_file}: none of its {len(self.data_list)} images has a usable object for {mode} "
                f"(filter_empty_gt=True left out all of them). What was filtered: {why}. Classes used: {classes}")

    def _log_problems(self, num_images: int) -> None:
        mode = "test" if self.test_mode else "train"
        info = ("; an image-info file (no annotations): detections can only be written for the evaluation server"
                if self._metainfo.get("image_info") else "")
        print_log(
            f"CocoDetection({self.ann_file}, {mode}): {num_images} images, {len(self._metainfo['classes'])} classes"
            f"{info}",
            logger="current",
        )
        for reason, files in self.problems.items():
            names = list(dict.fromkeys(files))
            more = f" and {len(names) - _NUM_NAMED} more files" if len(names) > _NUM_NAMED else ""
            level = logging.INFO if reason.startswith("crowd") else logging.WARNING
            print_log(
                f"CocoDetection({self.ann_file}): {len(files)} {reason} (e.g. {', '.join(names[:_NUM_NAMED])}{more})",
                logger="current",
                level=level,
            )

    def problem_counts(self) -> dict[str, int]:
        """How many annotations/images were dropped, clipped or filtered, by reason (see the class docstring)."""
        return {reason: len(files) for reason, files in self.problems.items()}

    # ------------------------------------------------------------------ samples
    def prepare_data(self, idx: int) -> Any:
        data_info = self.get_data_info(idx)
        try:
            return self.pipeline(data_info)
        except BadImageError as e:
            if self.test_mode or self.on_bad_image == "raise":
                raise
            self.num_bad_images += 1
            print_log(
                f"CocoDetection: skipping unreadable image {e.path} ({e.problem}); "
                f"{self.num_bad_images} skipped so far "
                "in this process (on_bad_image='skip'); drawing another image",
                logger="current",
                level=logging.WARNING,
            )
            return None
