"""Export a checkpoint to an ExecuTorch program (XNNPACK), float32 or int8, and check it against PyTorch.

    python tools/deploy/export_executorch.py CONFIG CHECKPOINT --out model.pte [--shape H W] [--with-argmax]
        [--quantize int8 --calib-data train|val|test|DIR --calib-images N] [--no-verify]
    python tools/deploy/export_executorch.py CONFIG QAT_CHECKPOINT --out model_int8.pte --quantize int8

The program's input is float32 ``[1, 3, H, W]`` RGB in 0..255 (normalisation and folded BN inside); outputs: SSDLite
``cls_logits``, ``box_deltas`` (decoding and NMS run in densenets' post-processing:
``tools/infer.py --backend executorch``), segmentation ``logits`` (``--with-argmax``: also ``labels``),
``ImageClassifier`` ``logits``. ``--shape``: the network input size (default: the test pipeline's fixed resize,
padded like the data preprocessor pads). ``model.json`` next to ``model.pte`` records the config, the checkpoint's
sha256, the input, the quantization and calibration set, and the package versions. Needs ``pip install -e .[mobile]``.

A checkpoint of quantization-aware training (``qat = dict()`` configs, ``densenets/deploy/qat.py``) is recognised
by its keys and converted as trained (``convert_pt2e``, no calibration); the side-car says ``"int8 QAT"``.

After export one image runs through PyTorch (the folded fp32 graph) and the program; fp32 outputs must agree to
``--tolerance`` (1e-4 + 1e-4 relative). For int8 the difference to fp32 on a calibration image is printed.
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

import torch

from densenets.analysis.bench_inputs import padded_shape
from densenets.apis.export_cli import export_arguments, fixed_test_shape, model_to_export
from densenets.engine.cli import UsageError, command


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = export_arguments(__doc__.splitlines()[0], "the .pte file to write (model.json is written beside it)")
    p.add_argument("--quantize", choices=["int8"], default=None,
                   help="int8: post-training quantization (PT2E), or the conversion of a QAT checkpoint")
    p.add_argument("--calib-data", default="train", help="split of the config (train|val|test) or an image folder")
    p.add_argument("--calib-images", type=int, default=100, help="number of calibration images")
    args = p.parse_args(argv)
    if not args.out.endswith(".pte"):
        p.error(f"--out {args.out}: an ExecuTorch program file ends in .pte")
    if args.calib_images < 1:
        p.error("--calib-images must be >= 1")
    return args


@command
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        from densenets.deploy.executorch_export import export_executorch, file_sha256
    except ImportError as err:
        raise UsageError(f"ExecuTorch is not installed ({err}); pip install -e .[mobile]") from err
    qat = None  # the QAT options when the checkpoint is a quantization-aware-training one

    def as_trained(cfg, model):
        """A QAT checkpoint (recognised by its keys) loads into the QAT graph it was trained as."""
        nonlocal qat
        from densenets.deploy.qat import QATModel, is_qat_checkpoint, qat_options_for_checkpoint

        if args.checkpoint.lower() == "none" or not is_qat_checkpoint(args.checkpoint):
            return model
        if args.quantize != "int8":
            raise UsageError(f"{args.checkpoint} is a quantization-aware-training checkpoint; it exports as int8: "
                             "add --quantize int8")
        qat = qat_options_for_checkpoint(cfg, args.checkpoint, "export")
        shape = padded_shape(model, tuple(args.shape) if args.shape else qat["input_hw"])
        if tuple(qat["input_hw"]) != tuple(shape):
            raise UsageError(f"the QAT graph of {args.checkpoint} takes {qat['input_hw'][0]}x{qat['input_hw'][1]} "
                             f"inputs (qat.input_hw of {args.config}); --shape {shape[0]} {shape[1]} would be another "
                             "graph")
        return QATModel(model, **qat)

    cfg, model = model_to_export(args, wrap=as_trained)
    meta = dict(config=osp.relpath(args.config), config_text=cfg.pretty_text, checkpoint=None, checkpoint_sha256=None)
    if args.checkpoint.lower() != "none":
        meta.update(checkpoint=args.checkpoint, checkpoint_sha256=file_sha256(args.checkpoint))
    shape = tuple(args.shape) if args.shape else qat["input_hw"] if qat else fixed_test_shape(cfg)
    if not shape:
        raise UsageError(f"{args.config}: the test pipeline keeps each image's size; pass --shape H W (the image size "
                         "the program will take)")
    shape = padded_shape(model, shape)
    calib = None
    if args.quantize and qat:
        print("quantization-aware-trained checkpoint: converting its learned ranges (no calibration)")
    elif args.quantize:
        from densenets.deploy.calibration import calibration_set

        calib = calibration_set(cfg, args.calib_data, args.calib_images, shape)  # a bad set: an expected error
        meta["calibration"] = calib.describe()
        print(f"calibrating on {len(calib.images)} images of the {calib.source} ({calib.resized} resized to "
              f"{shape[0]}x{shape[1]})")
    result = export_executorch(model, args.out, shape, args.quantize, calib.images if calib else None,
                               args.with_argmax, meta)
    print(f"wrote {args.out} ({result.info['bytes'] / 2**20:.2f} MiB) and {result.sidecar}: input image "
          f"[1, 3, {shape[0]}, {shape[1]}] float32 0..255 RGB -> {', '.join(result.names)}"
          f"{' (int8)' if args.quantize else ''}")
    if args.no_verify:
        return 0
    from densenets.deploy.runtimes import ExecuTorchRuntime

    image = calib.images[0] if calib else torch.rand(1, 3, *shape, generator=torch.Generator().manual_seed(0)) * 255
    with torch.no_grad():
        reference = result.wrapper(image)
    reference = reference if isinstance(reference, (tuple, list)) else (reference,)
    outputs = ExecuTorchRuntime(args.out)(image)
    ok = True
    for name, r, o in zip(result.names, reference, outputs):
        if r.shape != o.shape:
            print(f"  {name}: PyTorch shape {tuple(r.shape)} but the program's {tuple(o.shape)}")
            ok = False
            continue
        if not torch.is_floating_point(r):
            agree = float((r == o).float().mean())
            print(f"  {name:12s} {str(tuple(r.shape)):22s} {agree:.2%} equal")
            ok &= args.quantize is not None or agree == 1.0
            continue
        diff = float((r - o).abs().max())
        rel = float((r - o).abs().mean() / r.abs().mean().clamp(min=1e-12))
        print(f"  {name:12s} {str(tuple(r.shape)):22s} max |{'QAT graph' if qat else 'fp32 torch'} - program| = "
              f"{diff:.2e} (mean relative {rel:.2e})")
        if args.quantize is None:
            ok &= bool(torch.allclose(o, r, atol=args.tolerance, rtol=args.tolerance))
    if args.quantize:
        what = "the difference to the fake-quantized QAT graph" if qat else "the difference to fp32"
        print(f"int8: {what} is quantization error; measure its accuracy with "
              f"tools/test.py {args.config} --backend executorch --model {args.out}")
        return 0
    print(f"parity {'OK' if ok else 'FAILED'} (tolerance {args.tolerance:g} absolute + relative)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
