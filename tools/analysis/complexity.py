"""The counting tool: parameters and multiply-adds of a backbone, its classification form or a config's model, and
the README's tables of them beside the papers' figures.

    python tools/analysis/complexity.py mobilenet_v3_large --classifier
    python tools/analysis/complexity.py shufflenet_v1 --backbone-options groups=8 width_mult=0.5 --shape 320 320
    python tools/analysis/complexity.py configs/lraspp_mbv3_large_cityscapes.py --shape 1024 2048 --json
    python tools/analysis/complexity.py --table backbones|ssdlite|faster_rcnn|segmentation [--write-readme]
    python tools/analysis/complexity.py --table backbones --names shufflenet_v2 --json
    OMP_NUM_THREADS=1 python tools/analysis/complexity.py --table zoo --threads 1 --runs 10 --warmup 2 \
        --out docs/model_zoo.md --plot docs/model_zoo.png [--configs NAME_OR_PATTERN ...] [--no-latency] \
        [--backends eager onnxruntime executorch executorch_int8] [--max-seconds 10] [--rows ROWS.json] \
        [--write-readme]

``--table`` prints one of the README's generated tables (``densenets.analysis.tables``; ``zoo`` also times every
config's model on each of ``--backends``, ``densenets.analysis.model_zoo``, and writes ``--out`` and ``--plot``: the
papers' accuracy against the latency measured here); ``--write-readme`` puts it into README.md between its
``<!-- densenets:NAME-table start/end -->`` markers.

MAdds are the papers' convention (multiply-adds of conv and fully-connected layers only; see
``densenets.analysis.complexity``), per image, for a ``1 x 3 x H x W`` input. The table lists the whole model and
each part: the units of a bare backbone, ``backbone`` / ``head`` of a classifier, the top-level modules of a config's
model (``backbone`` / ``neck`` / ``decode_head``...). With ``--json`` the last line of the output is one JSON object
(``params``, ``madds``, ``parts``...).
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import sys
from typing import Any, Sequence

from torch import nn

from densenets.analysis import Complexity, count_complexity
from densenets.analysis.backends import BACKEND_CHOICES
from densenets.engine.cli import UsageError, command


class CliError(UsageError):
    """A user error: one line ``error: ...``, exit status 2 (:func:`densenets.engine.cli.command`)."""


def parse_options(items: Sequence[str]) -> dict[str, Any]:
    """``["width_mult=0.5", "reduced_tail='detection'", "out_taps=C4,C5"]`` -> keyword arguments.

    Values are Python literals where they parse as one (numbers, None, True, tuples, quoted strings), else strings.
    """
    options: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.isidentifier():
            raise CliError(f"--backbone-options expects key=value, got {item!r}")
        try:
            options[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            options[key] = tuple(text.split(",")) if "," in text else text
    return options


def set_num_classes(node: Any, num_classes: int) -> int:
    """Set every ``num_classes`` key found anywhere in a (nested) config; return how many were set."""
    count = 0
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "num_classes":
                node[key] = num_classes
                count += 1
            else:
                count += set_num_classes(value, num_classes)
    elif isinstance(node, (list, tuple)):
        count += sum(set_num_classes(v, num_classes) for v in node)
    return count


class _Units(nn.Module):
    """A bare backbone seen as its units, so that each unit is reported as a part."""

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self._run = [backbone]  # not a child: its modules are registered below, once
        for name, unit in backbone.units.items():
            self.add_module(name, unit)

    def forward(self, x: Any) -> Any:
        return self._run[0](x)


def _from_config(path: str, args: argparse.Namespace) -> tuple[nn.Module, str]:
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from densenets.registry import MODELS

    if not os.path.isfile(path):
        raise CliError(f"config file not found: {path}")
    try:
        cfg = Config.fromfile(path)
    except Exception as err:  # syntax errors, missing _base_ files
        raise CliError(f"{path}: cannot read the config ({type(err).__name__}: {err})") from err
    model_cfg = cfg.get("model")
    if not isinstance(model_cfg, dict):
        raise CliError(f"{path}: the config has no 'model' dict")
    if args.num_classes is not None and set_num_classes(model_cfg, args.num_classes) == 0:
        raise CliError(f"{path}: --num-classes given but the model config has no 'num_classes' key")
    if args.backbone_options:
        options = parse_options(args.backbone_options)
        if isinstance(model_cfg.get("backbone"), dict):
            model_cfg["backbone"].update(options)
        elif "backbone_name" in model_cfg:  # ImageClassifier takes the backbone's options directly
            model_cfg.update(options)
        else:
            raise CliError(f"{path}: --backbone-options given but the model config has no 'backbone' dict")
    init_default_scope(cfg.get("default_scope", "densenets"))
    try:
        model = MODELS.build(model_cfg)
    except Exception as err:
        raise CliError(f"{path}: cannot build the model ({type(err).__name__}: {err})") from err
    return model, f"{path} ({type(model).__name__})"


def _from_name(name: str, args: argparse.Namespace) -> tuple[nn.Module, str]:
    from densenets.models.backbones import BACKBONES, build_backbone

    if name not in BACKBONES:
        raise CliError(
            f"{name!r} is neither a config file nor a backbone name; backbones: {', '.join(sorted(BACKBONES))}"
        )
    options = parse_options(args.backbone_options or [])
    if args.num_classes is not None and not args.classifier:
        raise CliError("--num-classes with a backbone name needs --classifier")
    try:
        if args.classifier:
            from densenets.models.classifier import ImageClassifier

            model: nn.Module = ImageClassifier(name, num_classes=args.num_classes or 1000, **options)
            label = f"{name} classifier ({args.num_classes or 1000} classes)"
        else:
            model = _Units(build_backbone(name, **options))
            label = f"{name} backbone (taps {', '.join(model._run[0].out_taps)})"
    except (TypeError, ValueError, KeyError) as err:
        raise CliError(f"cannot build {name!r} with options {options}: {err}") from err
    if options:
        label += " " + " ".join(f"{k}={v!r}" for k, v in options.items())
    return model, label


def measure(target: str, args: argparse.Namespace) -> tuple[Complexity, str]:
    """Build the model named by ``target`` (a config path or a backbone name) and count it."""
    is_config = target.endswith(".py") or os.sep in target or os.path.isfile(target)
    if is_config and args.classifier:
        raise CliError("--classifier applies to backbone names, not to config files")
    model, label = _from_config(target, args) if is_config else _from_name(target, args)
    return count_complexity(model, tuple(args.shape), elementwise=args.elementwise), label


def format_table(result: Complexity, label: str, shape: Sequence[int]) -> str:
    rows = [(name, p, m) for name, (p, m) in result.parts.items()] + [("total", result.params, result.madds)]
    width = max(len(r[0]) for r in rows)
    header = f"{'part':<{width}}  {'params':>12}  {'MAdds':>16}  {'MAdds':>9}"
    lines = [f"{label}, input 1x3x{shape[0]}x{shape[1]}", header]
    for i, (name, params, madds) in enumerate(rows):
        if i == len(rows) - 1:
            lines.append("-" * len(lines[1]))
        short = f"{madds / 1e9:.2f}G" if madds >= 1e9 else f"{madds / 1e6:.1f}M"
        lines.append(f"{name:<{width}}  {params:>12,}  {madds:>16,}  {short:>9}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="complexity.py", description="Params and MAdds (conv + linear multiply-adds) of a model, per part."
    )
    parser.add_argument("target", nargs="?", metavar="CONFIG_OR_BACKBONE",
                        help="a config file (configs/x.py) or a backbone name")
    tables = parser.add_argument_group("README tables")
    tables.add_argument("--table", choices=("backbones", "ssdlite", "faster_rcnn", "segmentation", "zoo"),
                        help="print one of the README's generated tables instead")
    tables.add_argument("--write-readme", action="store_true", help="also write it into README.md between markers")
    tables.add_argument("--names", nargs="+", metavar="NAME", help="--table backbones: only these backbones")
    tables.add_argument("--configs", nargs="+", metavar="NAME",
                        help="--table zoo: only these configs (file stems or shell patterns: 'ssdlite_mbv3_*')")
    tables.add_argument("--backends", nargs="+", default=["eager"], choices=BACKEND_CHOICES, metavar="BACKEND",
                        help="--table zoo: the runtimes timed, of " + ", ".join(BACKEND_CHOICES)
                        + " (densenets/analysis/backends.py; Faster R-CNN: eager / fused only)")
    tables.add_argument("--export-dir", default="work_dirs/zoo_exports",
                        help="--table zoo: where the exported programs are written while they are timed")
    tables.add_argument("--rows", default=None, metavar="JSON",
                        help="--table zoo: keep each measured config in this file and reuse those it holds (same "
                        "settings), so that a long zoo runs in parts or resumes after an interruption")
    tables.add_argument("--threads", type=int, default=1, help="--table zoo: CPU threads")
    tables.add_argument("--runs", type=int, default=20, help="--table zoo: timed runs per figure")
    tables.add_argument("--warmup", type=int, default=3, help="--table zoo: untimed runs first")
    tables.add_argument("--max-seconds", type=float, default=10.0, help="--table zoo: timed seconds per figure")
    tables.add_argument("--out", default="docs/model_zoo.md", help="--table zoo: the Markdown page")
    tables.add_argument("--plot", default=None, help="--table zoo: PNG of the papers' accuracy vs latency")
    tables.add_argument("--no-latency", action="store_true", help="--table zoo: params and MAdds only")
    parser.add_argument("--shape", nargs=2, type=int, default=(224, 224), metavar=("H", "W"), help="input size")
    parser.add_argument("--num-classes", type=int, help="classes of the head (sets every num_classes of a config)")
    parser.add_argument("--classifier", action="store_true", help="a backbone name with its paper's classifier head")
    parser.add_argument("--json", action="store_true", help="end the output with one JSON line")
    parser.add_argument(
        "--elementwise", action="store_true",
        help="also count MobileNetV3's h-swish and squeeze-excite multiplies (the convention of the MobileNetV3 "
        "paper's segmentation Tables 7/8, measured at 1025 x 2049)")
    parser.add_argument("--backbone-options", nargs="+", default=[], metavar="K=V", help="backbone keyword arguments")
    return parser


def print_table(args: argparse.Namespace, argv: Sequence[str] | None) -> None:
    """``--table NAME``: print it (and with ``--write-readme`` write it into README.md)."""
    from densenets.analysis import readme, tables

    name = args.table
    if name == "backbones":
        from densenets.analysis.paper_figures import BACKBONES
        from densenets.models.backbones import BACKBONES as BUILDERS

        unknown = sorted(set(args.names or []) - set(BUILDERS))
        if unknown:
            raise CliError(f"unknown backbone(s) {unknown}; available: {', '.join(sorted(BUILDERS))}")
        papers = [p for p in BACKBONES if args.names is None or p.name in args.names]
        rows = [tables.measure_backbone(p.name, p.options) for p in papers]
        text = tables.backbone_table(rows, papers)
        if args.json:
            text += "\n" + json.dumps(rows)
    elif name == "zoo":
        from densenets.analysis.model_zoo import ZooOptions, run_zoo, zoo_tables

        if args.runs < 1 or args.warmup < 0 or args.threads < 1:
            raise CliError("--runs and --threads must be >= 1, --warmup >= 0")
        options = ZooOptions(threads=args.threads, runs=args.runs, warmup=args.warmup, max_seconds=args.max_seconds,
                             no_latency=args.no_latency, out=args.out, plot=args.plot,
                             backends=tuple(dict.fromkeys(args.backends)), export_dir=args.export_dir,
                             rows=args.rows)
        cmdline = "python tools/analysis/complexity.py " + " ".join(argv if argv is not None else sys.argv[1:])
        try:
            rows = run_zoo(options, args.configs, command=cmdline, log=lambda s: print(s, flush=True))
            text = zoo_tables(rows, options.backends)
        except ValueError as err:
            raise CliError(str(err)) from err
    else:
        text = tables.TABLES[name]()
    if name != "zoo":
        print(text)
    if args.write_readme:
        block = "model-zoo" if name == "zoo" else f"{name.replace('_', '-')}-table"
        changed = readme.write_block(block, text if name != "backbones" or not args.json else text.rsplit("\n", 1)[0])
        print(f"README.md block {block}: {'rewritten' if changed else 'unchanged'}")


@command
def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.table:
        if args.target:
            parser.error("--table prints a README table; give no CONFIG_OR_BACKBONE with it")
        if args.write_readme and (args.names or args.configs):
            parser.error("--write-readme writes the whole table: drop --names / --configs")
        print_table(args, argv)
        return 0
    if args.target is None:
        parser.error("give a config file or a backbone name (or --table NAME)")
    if min(args.shape) < 1:
        parser.error(f"--shape must be positive, got {args.shape}")
    result, label = measure(args.target, args)
    print(format_table(result, label, args.shape))
    if args.json:
        record = {"model": args.target, "shape": list(args.shape), **result.as_dict()}
        print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
