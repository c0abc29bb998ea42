"""Print the README's backbone table: params and MAdds of each backbone's classification form beside the paper's
figures (SPEC §1), and the C4 / C5 / OS8 taps (channels / output stride) that the dense-prediction heads read.

    python tools/analysis/backbone_table.py                      # every row, 224x224
    python tools/analysis/backbone_table.py --names shufflenet_v2 --json

MAdds: conv + fully-connected multiply-adds (``densenets.analysis.count_complexity``), one 224x224 image, with the
paper's classifier (``densenets.models.classifier.ImageClassifier``, 1000 classes). Taps are those of the bare
backbone with the same options.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone without installing

from densenets.analysis import count_complexity  # noqa: E402
from densenets.models.backbones import BACKBONES  # noqa: E402
from densenets.models.classifier import ImageClassifier  # noqa: E402

M = 1e6
# (backbone name, options, paper params (lo, hi) or None, paper MAdds (lo, hi) or None, source). Figures: SPEC §1.
ROWS: list[tuple[str, dict[str, Any], tuple[float, float] | None, tuple[float, float] | None, str]] = [
    ("mobilenet_v1", {}, (4.2 * M, 4.2 * M), (569 * M, 569 * M), "MobileNetV1 paper"),
    ("mobilenet_v2", {}, (3.4 * M, 3.4 * M), (300 * M, 300 * M), "MobileNetV2 Table 4"),
    ("mobilenet_v2", {"width_mult": 0.5}, None, None, ""),
    ("mobilenet_v2", {"width_mult": 0.35}, None, None, ""),
    ("mobilenet_v2", {"reduced_tail": "segmentation"}, None, None, ""),
    ("mobilenet_v3_large", {}, (5.4 * M, 5.4 * M), (217 * M, 219 * M), "MobileNetV3 Table 3 / App. A"),
    ("mobilenet_v3_large", {"reduced_tail": "detection"}, None, None, ""),
    ("mobilenet_v3_large", {"reduced_tail": "segmentation"}, None, None, ""),
    ("mobilenet_v3_small", {}, (2.5 * M, 2.9 * M), (56 * M, 66 * M), "MobileNetV3 (versions differ)"),
    ("mobilenet_v3_small", {"reduced_tail": "detection"}, None, None, ""),
    ("mobilenet_v3_small", {"reduced_tail": "segmentation"}, None, None, ""),
    *[("shufflenet_v1", {"groups": g}, None, (f * M, f * M), "ShuffleNet Table 1")
      for g, f in ((1, 143), (2, 140), (3, 137), (4, 133), (8, 137))],
    *[("shufflenet_v2", {"width_mult": w}, (p * M, p * M), (f * M, f * M), "ShuffleNet V2 Table 5")
      for w, p, f in ((0.5, 1.4, 41), (1.0, 2.3, 146), (1.5, 3.5, 299), (2.0, 7.4, 591))],
]
TAPS = ("C4", "C5", "OS8")


def measure_row(name: str, options: dict[str, Any], shape: tuple[int, int] = (224, 224)) -> dict[str, Any]:
    """Params / MAdds of ``name``'s classification form and its taps' FeatureSpecs."""
    model = ImageClassifier(name, **options)
    figures = count_complexity(model, shape)
    backbone = BACKBONES[name](**options)
    taps = {tap: backbone.feature_info[tap] for tap in TAPS if tap in backbone.feature_info}
    return {
        "backbone": name,
        "options": options,
        "params": figures.params,
        "madds": figures.madds,
        "taps": {tap: {"channels": s.channels, "stride": s.stride} for tap, s in taps.items()},
    }


def _range(value: tuple[float, float] | None, unit: str = "M") -> str:
    if value is None:
        return "–"
    lo, hi = value
    return f"{lo / M:g}{unit}" if lo == hi else f"{lo / M:g}–{hi / M:g}{unit}"


def _delta(measured: int, paper: tuple[float, float] | None, rounding: float = 0.0) -> str:
    """Signed distance to the paper's figure (0 inside a range or within the paper's rounding)."""
    if paper is None:
        return ""
    lo, hi = paper
    if lo - rounding <= measured <= hi + rounding:
        return " (=)"
    bound = lo if measured < lo else hi
    return f" ({(measured - bound) / bound * 100:+.1f}%)"


def format_markdown(rows: Sequence[dict[str, Any]], papers: Sequence[tuple]) -> str:
    lines = [
        "| backbone | options | params | MAdds | paper params | paper MAdds | C4 | C5 | OS8 | source |",
        "|---|---|---:|---:|---:|---:|---|---|---|---|",
    ]
    for row, (p_params, p_madds, source) in zip(rows, papers):
        options = ", ".join(f"{k}={v!r}" for k, v in row["options"].items()) or "default"
        taps = [f"{t['channels']} / {t['stride']}" if t else "–" for t in (row["taps"].get(k) for k in TAPS)]
        lines.append(
            f"| {row['backbone']} | {options} | {row['params'] / M:.3f}M | {row['madds'] / M:.1f}M | "
            f"{_range(p_params)}{_delta(row['params'], p_params, 0.05 * M)} | "
            f"{_range(p_madds)}{_delta(row['madds'], p_madds, 0.5 * M)} | {' | '.join(taps)} | {source or '–'} |"
        )
    lines.append("")
    lines.append("params / MAdds: classification form (paper's classifier, 1000 classes) at 224x224; MAdds = conv + FC "
                 "multiply-adds. The papers round params to 0.1M and MAdds to 1M: (=) means within that rounding or "
                 "range, else the relative gap to the (nearest) paper figure. Taps: channels / output stride.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="backbone_table.py", description=__doc__.splitlines()[0])
    parser.add_argument("--names", nargs="+", metavar="NAME", help="only these backbones (default: every row)")
    parser.add_argument("--json", action="store_true", help="end the output with one JSON line holding the rows")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names or []) - set(BACKBONES))
    if unknown:
        parser.error(f"unknown backbone(s) {unknown}; available: {', '.join(sorted(BACKBONES))}")
    selected = [r for r in ROWS if args.names is None or r[0] in args.names]
    rows = [measure_row(name, options) for name, options, *_ in selected]
    print(format_markdown(rows, [r[2:] for r in selected]))
    if args.json:
        print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
