#!/usr/bin/env python
"""Evaluate a folder of Cityscapes prediction PNGs with the official pixel-level definitions, fast.

    python tools/eval_cityscapes.py PRED_DIR [--gt-dir data/cityscapes/gtFine/val] [--pred-ids {label,train}]
                                             [--json] [--workers N] [--no-instances]

Predictions are labelIds (0..33, what the official script and the benchmark server read) unless
``--pred-ids train``: trainIds 0..18, anything else (255) counted as no class. A labelId run on files that hold no
id >= 19 at all (trainIds written by mistake) stops with a message instead of scoring near 0. Predictions are matched
to ground truth as ``cityscapesscripts``' ``evalPixelLevelSemanticLabeling`` does (see
``densenets/evaluation/cityscapes_files.py``); missing and ambiguous predictions are all listed by name (exit
status 2). The scores (class IoU, iIoU, category IoU / iIoU, as fractions) are identical to the official script's.
With ``--json`` the last line printed is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Sequence

from densenets.engine.cli import UsageError, command
from densenets.evaluation.cityscapes_files import (
    available_cpus, evaluate_pairs, find_ground_truth, index_predictions, match_predictions)
from densenets.evaluation.cityscapes_writers import format_scores, scores_to_json


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("pred_dir", help="folder of prediction PNGs named <city>_<seq>_<frame>*.png (recursive)")
    p.add_argument("--gt-dir", default="data/cityscapes/gtFine/val", help="ground-truth folder (recursive)")
    p.add_argument("--pred-ids", choices=("label", "train"), default="label",
                   help="ids of the prediction PNGs: labelIds 0..33 (default, the official format) or trainIds 0..18")
    p.add_argument("--json", action="store_true", help="print one JSON object with the scores as the last line")
    p.add_argument("--workers", type=int, default=available_cpus(),
                   help="worker processes decoding and counting in parallel (default: the CPUs this process may use)")
    p.add_argument("--no-instances", action="store_true", help="skip the instance-weighted iIoU (no instanceIds)")
    return p.parse_args(argv)


@command
def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    gt_files = find_ground_truth(args.gt_dir)
    index = index_predictions(args.pred_dir)
    pairs, missing, ambiguous, unused = match_predictions(gt_files, index, not args.no_instances)
    if missing or ambiguous:
        lines = [f"{len(missing)} of {len(gt_files)} ground-truth images have no prediction and "
                 f"{len(ambiguous)} have several in {args.pred_dir} (expected exactly one '<city>_<seq>_<frame>*.png')"]
        lines += [f"  missing prediction for {os.path.basename(g)}" for g in missing]
        for g, found in ambiguous.items():
            lines.append(f"  several predictions for {os.path.basename(g)}: {', '.join(found)}")
        raise UsageError("\n".join(lines))
    if unused:
        print(f"warning: {len(unused)} prediction files match no ground truth and are ignored, e.g. "
              f"{', '.join(os.path.basename(u) for u in unused[:5])}", file=sys.stderr)
    start = time.perf_counter()
    scores = evaluate_pairs(pairs, args.workers, args.pred_ids).scores()
    print(format_scores(scores))
    print(f"Evaluated {len(pairs)} images ({args.pred_ids}Id predictions) in {time.perf_counter() - start:.2f} s "
          f"(mIoU {100 * scores['averageScoreClasses']:.2f})")
    if args.json:
        print(json.dumps(scores_to_json(scores)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
