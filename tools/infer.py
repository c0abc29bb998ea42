"""Run a checkpoint on images or folders: ``python tools/infer.py CONFIG CHECKPOINT INPUT... --out-dir DIR``.

Writes ``<name>_overlay.jpg`` per image (boxes with class names and scores, or the colour map blended on the
image), ``<name>_pred.png`` label maps for segmentors, and ``predictions.json``; ``<name>`` is the input's path
relative to the inputs' common folder, so ``a/img.jpg`` and ``b/img.jpg`` get two outputs. Unreadable inputs
(broken symlinks included) are reported and skipped, with a count at the end. An expected error (a checkpoint of
another model, a missing or unreadable file) is one message and exit status 2 (``DENSENETS_DEBUG=1``: traceback).

``--backend onnxruntime|executorch --model model.onnx|model.pte`` runs an exported program instead of the PyTorch
network (same pre/post-processing, overlays and ``predictions.json``); CHECKPOINT may then be ``none``.
"""
from __future__ import annotations

import argparse
import sys

from mmengine.config import DictAction

from densenets.apis import Inferencer
from densenets.engine.cli import command


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("checkpoint", help="checkpoint file ('none': the config's initial weights)")
    parser.add_argument("inputs", nargs="+", help="image files and/or folders (searched recursively)")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--score-thr", type=float, default=0.3)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--backend", choices=["torch", "onnxruntime", "executorch"], default="torch")
    parser.add_argument("--model", help="the exported program (.onnx / .pte) for --backend")
    parser.add_argument("--threads", type=int, default=1, help="runtime threads for --backend")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    args = parser.parse_args(argv)
    checkpoint = None if args.checkpoint.lower() == "none" else args.checkpoint
    inferencer = Inferencer(args.config, checkpoint, args.device, args.score_thr, args.cfg_options,
                            backend=args.backend, model_path=args.model, threads=args.threads)
    records = inferencer(args.inputs, out_dir=args.out_dir, batch_size=args.batch_size)
    print(f"{len(records)} images written to {args.out_dir}; {len(inferencer.skipped)} skipped"
          + (f": {', '.join(inferencer.skipped)}" if inferencer.skipped else ""))
    return 0 if records or not inferencer.skipped else 1


if __name__ == "__main__":
    sys.exit(main())
