"""The README's complexity tables (params and MAdds beside the papers' figures), generated — no timing, so they are
deterministic and a test checks that README.md holds exactly what these functions produce.

* ``backbones``: each backbone's classification form (paper's classifier, 1000 classes) at 224x224, with its C4 /
  C5 / OS8 taps; paper figures from :data:`~densenets.analysis.paper_figures.BACKBONES`.
* ``ssdlite``: every ``configs/ssdlite_*.py`` at 320x320 with TF's 90-class label map (as MobileNetV3 Table 6
  counts), against Table 6.
* ``faster_rcnn``: every ``configs/faster_rcnn_*.py`` at a square input of the config's shorter side with 90 classes:
  the image part (backbone [+ FPN] + RPN head: ``mode="tensor"`` with no RoIs), one RoI through the box head, and the
  total with the config's test-time proposal count (MobileNet Table 13 counts "300" / "600" this way).
* ``segmentation``: every Table 7 / 8 config with 19 classes: at TF DeepLab's 1025x2049 evaluation crop with
  MobileNetV3's h-swish / SE multiplies (the paper's convention), and conv + FC only at 1024x2048; on the ``meta``
  device (shapes only).

MAdds are ``densenets.analysis.count_complexity``'s (conv + fully-connected multiply-adds per image).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import torch

from .complexity import count_complexity
from .paper_figures import BACKBONES, FASTER_RCNN, SEGMENTATION, SSDLITE, BackboneFigures, PaperFigures

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
M, B = 1e6, 1e9
TAPS = ("C4", "C5", "OS8")
TF_EVAL_SIZE, SEG_SIZE, SSD_SIZE = (1025, 2049), (1024, 2048), (320, 320)


def _build(path: Path, meta: bool = False, **model_options: Any) -> torch.nn.Module:
    from mmengine.config import Config

    from densenets.registry import MODELS

    cfg = Config.fromfile(str(path))
    cfg.model.update(model_options)
    if meta:
        with torch.device("meta"):
            return MODELS.build(cfg.model)
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def _in_paper_order(pattern: str, papers: dict[str, PaperFigures]) -> list[Path]:
    """The configs matching ``pattern``: the papers' rows first in their order, then the others by name."""
    found = {p.stem: p for p in CONFIGS.glob(pattern)}
    return [found[n] for n in papers if n in found] + [found[n] for n in sorted(set(found) - set(papers))]


def _vs(measured: float, paper: float | None, unit: float) -> str:
    """Relative gap to the paper's figure, e.g. ``" (+2.6%)"``."""
    return "" if paper is None else f" ({measured / (paper * unit) - 1:+.1%})"


def _num(v: float | None, fmt: str, suffix: str = "") -> str:
    return "–" if v is None else f"{format(v, fmt)}{suffix}"


# -- backbones ----------------------------------------------------------------------------------------------------
def measure_backbone(name: str, options: dict[str, Any], shape: tuple[int, int] = (224, 224)) -> dict[str, Any]:
    """Params / MAdds of ``name``'s classification form and its taps' FeatureSpecs."""
    from densenets.models.backbones import BACKBONES as BUILDERS
    from densenets.models.classifier import ImageClassifier

    figures = count_complexity(ImageClassifier(name, **options), shape)
    backbone = BUILDERS[name](**options)
    taps = {tap: backbone.feature_info[tap] for tap in TAPS if tap in backbone.feature_info}
    return {"backbone": name, "options": options, "params": figures.params, "madds": figures.madds,
            "taps": {tap: {"channels": s.channels, "stride": s.stride} for tap, s in taps.items()}}


def _range(value: tuple[float, float] | None) -> str:
    if value is None:
        return "–"
    lo, hi = value
    return f"{lo / M:g}M" if lo == hi else f"{lo / M:g}–{hi / M:g}M"


def _delta(measured: int, paper: tuple[float, float] | None, rounding: float) -> str:
    """Signed distance to the paper's figure (``(=)`` inside a range or within the paper's rounding)."""
    if paper is None:
        return ""
    lo, hi = paper
    if lo - rounding <= measured <= hi + rounding:
        return " (=)"
    bound = lo if measured < lo else hi
    return f" ({(measured - bound) / bound * 100:+.1f}%)"


def backbone_table(rows: list[dict[str, Any]] | None = None, papers: list[BackboneFigures] = BACKBONES) -> str:
    """The backbone table; ``rows`` (from :func:`measure_backbone`, one per ``papers`` entry) are measured here
    when not given."""
    rows = rows if rows is not None else [measure_backbone(p.name, p.options) for p in papers]
    lines = ["| backbone | options | params | MAdds | paper params | paper MAdds | C4 | C5 | OS8 | source |",
             "|---|---|---:|---:|---:|---:|---|---|---|---|"]
    for row, paper in zip(rows, papers):
        options = ", ".join(f"{k}={v!r}" for k, v in row["options"].items()) or "default"
        taps = [f"{t['channels']} / {t['stride']}" if t else "–" for t in (row["taps"].get(k) for k in TAPS)]
        lines.append(
            f"| {row['backbone']} | {options} | {row['params'] / M:.3f}M | {row['madds'] / M:.1f}M | "
            f"{_range(paper.params)}{_delta(row['params'], paper.params, 0.05 * M)} | "
            f"{_range(paper.madds)}{_delta(row['madds'], paper.madds, 0.5 * M)} | {' | '.join(taps)} | "
            f"{paper.source or '–'} |")
    lines += ["", "params / MAdds: classification form (paper's classifier, 1000 classes) at 224x224; MAdds = conv + "
              "FC multiply-adds. The papers round params to 0.1M and MAdds to 1M: (=) means within that rounding or "
              "range, else the relative gap to the (nearest) paper figure. Taps: channels / output stride."]
    return "\n".join(lines)


# -- SSDLite ------------------------------------------------------------------------------------------------------
def ssdlite_table() -> str:
    lines = ["| config | Table 6 row | params | MAdds | paper params | paper MAdds | paper mAP |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for path in _in_paper_order("ssdlite_*.py", SSDLITE):
        c = count_complexity(_build(path, num_classes=90), SSD_SIZE)
        p = SSDLITE.get(path.stem, PaperFigures(""))
        row = p.source.removeprefix("MobileNetV3 Table 6 ") or "–"
        lines.append(f"| `{path.stem}` | {row} | {c.params / M:.3f}M{_vs(c.params, p.params_m, M)} | "
                     f"{c.madds / B:.3f}B{_vs(c.madds, p.madds_b, B)} | {_num(p.params_m, 'g', 'M')} | "
                     f"{_num(p.madds_b, '.2f', 'B')} | {_num(p.metric, '.1f')} |")
    return "\n".join(lines)


# -- Faster R-CNN -------------------------------------------------------------------------------------------------
def frcnn_complexity(path: Path, num_classes: int | None = 90) -> dict[str, Any]:
    """Image-part MAdds, per-RoI MAdds and the total with the test-time proposals, at side x side."""
    from densenets.analysis.bench_inputs import eval_image_shape
    from mmengine.config import Config

    cfg = Config.fromfile(str(path))
    side = min(eval_image_shape(cfg, (10_000, 10_000)))  # the test resize's shorter side
    options = {"tensor_num_rois": 0} | ({"num_classes": num_classes} if num_classes is not None else {})
    model = _build(path, **options)
    image = count_complexity(model, (side, side))
    model.tensor_num_rois = 2
    per_roi = (count_complexity(model, (side, side)).madds - image.madds) // 2
    rois = int(cfg.model.rpn_post_nms_top_n_test)
    return {"params": image.params, "side": side, "image_madds": image.madds, "per_roi_madds": per_roi,
            "rois": rois, "total_madds": image.madds + rois * per_roi}


def faster_rcnn_table(num_classes: int | None = 90) -> str:
    lines = ["| config | params | input | image MAdds | per-RoI MAdds | RoIs | total MAdds | paper MAdds | paper mAP |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for path in _in_paper_order("faster_rcnn_*.py", FASTER_RCNN):
        r = frcnn_complexity(path, num_classes)
        p = FASTER_RCNN.get(path.stem, PaperFigures(""))
        lines.append(f"| `{path.stem}` | {r['params'] / M:.2f}M | {r['side']}x{r['side']} | "
                     f"{r['image_madds'] / B:.3f}B | {r['per_roi_madds'] / M:.1f}M | {r['rois']} | "
                     f"{r['total_madds'] / B:.2f}B | {_num(p.madds_b, '.1f', 'B')} | {_num(p.metric, '.1f')} |")
    return "\n".join(lines)


# -- segmentation -------------------------------------------------------------------------------------------------
def segmentation_complexity(path: Path) -> dict[str, int]:
    """Params, MAdds in the paper's convention (1025x2049, h-swish / SE multiplies) and conv-only at 1024x2048."""
    model = _build(path, meta=True)
    forward: Callable = lambda m, x: m(x.to("meta"), mode="tensor")  # noqa: E731
    tf = count_complexity(model, TF_EVAL_SIZE, forward=forward, elementwise=True)
    conv = count_complexity(model, SEG_SIZE, forward=forward)
    return {"params": conv.params, "madds_tf": tf.madds, "madds_conv": conv.madds}


def segmentation_table() -> str:
    lines = ["| config | table, row | params (paper) | MAdds, TF convention (paper) | MAdds, conv only at 1024×2048 "
             "| paper mIoU |", "|---|---|---|---|---|---:|"]
    for path in _in_paper_order("*aspp*_cityscapes.py", SEGMENTATION):
        r = segmentation_complexity(path)
        p = SEGMENTATION.get(path.stem, PaperFigures(""))
        paper_params = "" if p.params_m is None else f" ({p.params_m:.2f}, {r['params'] / (p.params_m * M) - 1:+.1%})"
        paper_madds = "" if p.madds_b is None else f" ({p.madds_b:.2f}, {r['madds_tf'] / (p.madds_b * B) - 1:+.1%})"
        lines.append(f"| `{path.stem}` | {p.source.removeprefix('MobileNetV3 ') or '–'} | {r['params'] / M:.3f}M"
                     f"{paper_params} | {r['madds_tf'] / B:.2f}B{paper_madds} | {r['madds_conv'] / B:.2f}B | "
                     f"{_num(p.metric, '.2f')} |")
    return "\n".join(lines)


#: README block name -> generator (``tools/analysis/complexity.py --table NAME [--write-readme]``)
TABLES: dict[str, Callable[[], str]] = {
    "backbones": backbone_table,
    "ssdlite": ssdlite_table,
    "faster_rcnn": faster_rcnn_table,
    "segmentation": segmentation_table,
}
