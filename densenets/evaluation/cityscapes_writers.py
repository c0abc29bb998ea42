"""Writing Cityscapes results: the official score table, the JSON summary and labelId prediction PNGs."""
from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
from cityscapesscripts.helpers.labels import category2labels
from PIL import Image

from ..datasets.cityscapes_labels import (
    IGNORED_IN_EVAL, LABEL_NAMES, NUM_LABEL_IDS, parse_cityscapes_name, train_ids_to_label_ids)

__all__ = ["JSON_KEYS", "format_scores", "scores_to_json", "write_label_id_png"]

#: the keys of the official result dictionary that ``tools/eval_cityscapes.py --json`` prints
JSON_KEYS = ("averageScoreClasses", "averageScoreInstClasses", "averageScoreCategories", "averageScoreInstCategories",
             "classScores", "classInstScores", "categoryScores", "categoryInstScores", "numImages")


def format_scores(scores: dict[str, Any]) -> str:
    """The per-class and per-category IoU / iIoU table, laid out like the official script's printout."""
    lines = ["classes          IoU      iIoU", "--------------------------------"]
    for i in range(NUM_LABEL_IDS):
        if not IGNORED_IN_EVAL[i]:
            n = LABEL_NAMES[i]
            lines.append(f"{n:<14}: {scores['classScores'][n]:>5.3f}    {scores['classInstScores'][n]:>5.3f}")
    lines += ["--------------------------------",
              f"Score Average : {scores['averageScoreClasses']:5.3f}    {scores['averageScoreInstClasses']:5.3f}",
              "--------------------------------", "", "categories       IoU      iIoU",
              "--------------------------------"]
    for cat, lbs in category2labels.items():
        if not all(lb.ignoreInEval for lb in lbs):
            iou, iiou = scores["categoryScores"][cat], scores["categoryInstScores"][cat]
            lines.append(f"{cat:<14}: {iou:>5.3f}    {iiou:>5.3f}")
    lines += ["--------------------------------",
              f"Score Average : {scores['averageScoreCategories']:5.3f}    {scores['averageScoreInstCategories']:5.3f}",
              "--------------------------------"]
    return "\n".join(lines)


def _json_safe(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _json_safe(x) for k, x in v.items()}
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def scores_to_json(scores: dict[str, Any]) -> dict[str, Any]:
    """The :data:`JSON_KEYS` of a result dictionary, NaN (a class absent from ground truth and prediction) as None."""
    return _json_safe({k: scores[k] for k in JSON_KEYS})


def write_label_id_png(train_ids: np.ndarray, img_path: str, output_dir: str) -> str:
    """Write a trainId prediction as ``<output_dir>/<city>/<city>_<seq>_<frame>_pred_labelIds.png`` (labelIds,
    no-class pixels as 0 'unlabeled'), the format of the official evaluator and the benchmark server; returns it."""
    city, seq, frame = parse_cityscapes_name(img_path)
    out = os.path.join(output_dir, city, f"{city}_{seq}_{frame}_pred_labelIds.png")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    Image.fromarray(train_ids_to_label_ids(train_ids)).save(out)  # with Pillow, as cityscapesscripts writes them
    return out
