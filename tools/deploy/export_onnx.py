"""Export a checkpoint to ONNX for onnxruntime on the CPU and check it against PyTorch.

    python tools/deploy/export_onnx.py CONFIG CHECKPOINT --out model.onnx [--shape H W] [--dynamic-batch]
        [--with-nms] [--with-argmax] [--batch B] [--opset 17] [--no-verify]

The graph's input ``image`` is float32 ``[B, 3, H, W]`` RGB in 0..255; normalisation and folded BN are inside.
After export the same random image runs through PyTorch and onnxruntime and the largest difference is printed
(raw outputs must agree to 1e-4; with --with-nms boxes, scores and labels are compared).
"""
from __future__ import annotations

import sys

import numpy as np
import torch

from densenets.apis.export_cli import export_arguments, fixed_test_shape, model_to_export
from densenets.deploy import export_onnx, run_onnxruntime
from densenets.deploy.onnx_export import unmatched_detections
from densenets.engine.cli import command


def compare(reference, onnx_outputs, names: list[str], with_nms: bool) -> float:
    ref = reference if isinstance(reference, (tuple, list)) else (reference,)
    if with_nms:
        missing = unmatched_detections(ref, onnx_outputs)
        print(f"  {len(ref[1])} detections in PyTorch, {len(onnx_outputs[1])} in onnxruntime, {missing} without a twin")
        return 0.0 if missing == 0 and len(ref[1]) == len(onnx_outputs[1]) else float("inf")
    worst = 0.0
    for name, r, o in zip(names, ref, onnx_outputs):
        r = r.detach().numpy()
        if r.shape != o.shape:
            raise SystemExit(f"output {name}: PyTorch shape {r.shape} but onnxruntime {o.shape}")
        if r.dtype.kind in "iu":
            if not np.array_equal(r, o):
                raise SystemExit(f"output {name}: integer outputs differ")
            continue
        diff = float(np.abs(r - o).max()) if r.size else 0.0
        worst = max(worst, diff)
        print(f"  {name:12s} {str(r.shape):22s} max |torch - onnxruntime| = {diff:.2e}")
    return worst


@command
def main(argv: list[str] | None = None) -> int:
    p = export_arguments("Export a densenets checkpoint to ONNX", "the .onnx file to write")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--dynamic-batch", action="store_true")
    p.add_argument("--with-nms", action="store_true",
                   help="SSDLite: decoding + top-k + NMS inside the graph (the post-processing's first pass only)")
    p.add_argument("--opset", type=int, default=17)
    args = p.parse_args(argv)

    cfg, model = model_to_export(args)
    # the input size the config evaluates at (the test pipeline's fixed resize), else 320 x 320
    shape = tuple(args.shape) if args.shape else fixed_test_shape(cfg) or (320, 320)
    wrapper, names = export_onnx(model, args.out, shape, args.batch, args.dynamic_batch, args.with_nms,
                                 args.with_argmax, args.opset)
    print(f"wrote {args.out}: input image [{'batch' if args.dynamic_batch else args.batch}, 3, {shape[0]}, "
          f"{shape[1]}] float32 0..255 RGB -> {', '.join(names)} (opset {args.opset})")
    if args.no_verify:
        return 0
    image = torch.rand(args.batch, 3, *shape, generator=torch.Generator().manual_seed(0)) * 255
    with torch.no_grad():
        reference = wrapper(image)
    worst = compare(reference, run_onnxruntime(args.out, image), names, args.with_nms)
    ok = worst <= args.tolerance
    if not ok and args.with_nms and args.checkpoint.lower() == "none":
        print("note: untrained weights score nearly every box the same, so NMS picks among ties differently; "
              "check parity with a trained checkpoint")
    print(f"parity {'OK' if ok else 'FAILED'}: max difference {worst:.2e} (tolerance {args.tolerance:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
