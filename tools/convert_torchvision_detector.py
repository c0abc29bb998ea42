"""Turn a torchvision Faster R-CNN checkpoint into a densenets checkpoint:
``python tools/convert_torchvision_detector.py CONFIG TORCHVISION.pth OUT.pth``.

For torchvision's ``fasterrcnn_mobilenet_v3_large_fpn`` / ``_320_fpn`` state dicts (e.g. its COCO weights,
``fasterrcnn_mobilenet_v3_large_fpn-fb6a3cc7.pth``) and the FPN-form configs that rebuild them
(``configs/faster_rcnn_mbv3_large_fpn.py``, ``configs/faster_rcnn_mbv3_large_320_fpn.py``). The model is built from
CONFIG with ``num_classes`` read from the checkpoint's classifier; every tensor must match in name and shape
(:func:`densenets.models.detectors.faster_rcnn.load_torchvision_detector`). torchvision's COCO detectors have 91
outputs indexed by COCO category id (0: background), so the converted model's labels are category ids minus one:
evaluate it with ``model.num_classes=90 test_evaluator.label_space=coco_category_ids`` (the command is printed).
An expected error (a missing file, another model's checkpoint) is one message and exit status 2.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from mmengine.config import DictAction

from densenets.engine.cli import UsageError, command

CLASSIFIER = "roi_heads.box_predictor.cls_score.weight"
COCO_OUTPUTS = 91  # torchvision's COCO detectors: background + the 90 category ids (10 of them unused by COCO)


@command
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", help="an FPN-form MobileNetV3 Faster R-CNN config")
    parser.add_argument("src", help="torchvision state_dict (.pth)")
    parser.add_argument("dst", help="densenets checkpoint to write")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    args = parser.parse_args(argv)

    import io

    import torch

    from densenets.apis import build_model, load_config
    from densenets.engine.checkpoint import atomic_write_bytes
    from densenets.models.backbones.torchvision_weights import read_checkpoint
    from densenets.models.detectors.faster_rcnn import load_torchvision_detector

    state = read_checkpoint(args.src)
    if CLASSIFIER not in state:
        raise UsageError(f"{args.src}: not a torchvision Faster R-CNN checkpoint (it has no {CLASSIFIER})")
    num_classes = int(state[CLASSIFIER].shape[0]) - 1
    cfg = load_config(args.config, {**args.cfg_options, "model.num_classes": num_classes})
    model = build_model(cfg)
    try:
        load_torchvision_detector(model, args.src, state)
    except ValueError as err:  # another form or size of model: say which config built it
        raise UsageError(f"{args.config}: {err}") from err
    os.makedirs(os.path.dirname(os.path.abspath(args.dst)), exist_ok=True)
    buffer = io.BytesIO()
    torch.save({"state_dict": model.state_dict(), "meta": {"converted_from": os.path.abspath(args.src)}}, buffer)
    atomic_write_bytes(buffer.getvalue(), args.dst)  # never a truncated checkpoint, also when DST is SRC
    options = f"model.num_classes={num_classes}"
    if num_classes + 1 == COCO_OUTPUTS:
        options += " test_evaluator.label_space=coco_category_ids"
    print(f"wrote {args.dst} ({num_classes} classes)\nevaluate it with:\n"
          f"  python tools/test.py {args.config} {args.dst} --cfg-options {options}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
