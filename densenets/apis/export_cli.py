"""What the two exporters (``tools/deploy/export_onnx.py``, ``tools/deploy/export_executorch.py``) share on the
command line: the arguments both take, the model with the checkpoint's weights, and the input size the config
evaluates at. Their expected errors go through :func:`densenets.engine.cli.run_main` (one line, exit status 2)."""
from __future__ import annotations

import argparse
from typing import Callable

from mmengine.config import Config, DictAction
from torch import nn

from ..engine.cli import UsageError
from .model_loading import CheckpointMismatchError, build_model, load_config, load_model_weights

__all__ = ["export_arguments", "fixed_test_shape", "model_to_export"]


def export_arguments(description: str, out_help: str) -> argparse.ArgumentParser:
    """A parser with the arguments of every exporter; each tool adds its own (runtime, quantization) to it."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("config")
    p.add_argument("checkpoint", help="checkpoint file ('none': the config's initial weights)")
    p.add_argument("--out", required=True, help=out_help)
    p.add_argument("--shape", type=int, nargs=2, metavar=("H", "W"), help="network input size")
    p.add_argument("--with-argmax", action="store_true", help="segmentors: also output the label map")
    p.add_argument("--no-verify", action="store_true", help="skip the parity check against PyTorch")
    p.add_argument("--tolerance", type=float, default=1e-4)
    p.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    return p


def model_to_export(
    args: argparse.Namespace, wrap: Callable[[Config, nn.Module], nn.Module] | None = None
) -> tuple[Config, nn.Module]:
    """The config (with ``--cfg-options``) and its model holding the checkpoint's weights (``none``: the config's
    initial weights). ``wrap(cfg, model)`` may replace the model before the weights load (the QAT graph of a
    quantization-aware-training checkpoint). A checkpoint that is missing or does not fit the model is a
    :class:`UsageError` naming it."""
    cfg = load_config(args.config, args.cfg_options)
    model = build_model(cfg)
    if args.checkpoint.lower() != "none":
        try:
            if wrap is not None:
                model = wrap(cfg, model)
            load_model_weights(model, args.checkpoint)
        except (CheckpointMismatchError, FileNotFoundError, RuntimeError, ValueError) as err:
            raise UsageError(f"{err}\n(config: {args.config}; nothing was exported)") from err
    return cfg, model


def fixed_test_shape(cfg: Config) -> tuple[int, int] | None:
    """The test pipeline's fixed ``Resize`` (height, width), or ``None`` when it keeps the image size."""
    pipeline = cfg.get("test_dataloader", {}).get("dataset", {}).get("pipeline", [])
    for step in pipeline:
        for t in step.get("transforms", [step]) if isinstance(step, dict) else []:
            if isinstance(t, dict) and t.get("type") == "Resize" and "height" in t:
                return int(t["height"]), int(t["width"])
    return None
