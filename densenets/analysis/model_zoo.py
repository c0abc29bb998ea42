"""The measured model zoo: params, MAdds and 1-thread CPU latency of every config on each backend, next to the
papers' figures. Run by ``tools/analysis/complexity.py --table zoo`` (docs/model_zoo.md, the plot, and with
``--write-readme`` the README's model-zoo block).

One Markdown table per task (SSDLite, Faster R-CNN, segmentation) and a plot of the papers' accuracy against the
latency measured here, one marker per backend (:func:`zoo_figure`).

* Params: every parameter of the model as the config builds it.
* MAdds: multiply-adds of convolutions and fully-connected layers (``densenets.analysis.count_complexity``) per image
  at the paper's input size: SSDLite 320x320 with 90 classes (TF's label map, as MobileNetV3 Table 6 counts);
  segmentation 1024x2048 with 19 classes (MobileNetV3 Table 7); Faster R-CNN at the config's test resize of a
  640x480 COCO photo, padded to a multiple of 32 (shorter side 300 -> 320x416, 600 -> 608x800, 800 -> 800x1088,
  320 (max 640) -> 320x448), including the second stage on all of the model's test-time proposals.
* Latency: the network alone, batch 1, random weights, at the same input size as the MAdds (segmentation also at
  512x1024), on each of ``backends`` (``densenets.analysis.backends``, the runtimes of ``tools/analysis/benchmark.py
  --backend``): ``eager`` = ``model(x, mode="tensor")`` (eval, no BN folding); ``fused`` = BN folded +
  channels-last; ``onnxruntime`` (CPU provider), ``executorch`` (fp32, XNNPACK), ``executorch_int8`` (PT2E int8,
  XNNPACK, calibrated on random images: latency does not depend on the calibration) = the exported program (BN
  folded, normalisation inside) on the 0..255 pixel batch. One export per backend and input size, written under
  ``export_dir`` and removed once timed. Median of ``runs`` timed runs after ``warmup`` (``densenets.analysis.timing``)
  on this machine's CPU with ``threads`` threads; second-long runs stop after ``max_seconds`` of timed runs per
  figure (at least one run), so the segmentation rows use few runs. Faster R-CNN runs eager only (``eager`` /
  ``fused``): it does not export to ExecuTorch (``torchvision::roi_align`` has no kernel) and the exported-program
  runner (``densenets.deploy.runtimes.ExportedModel``) runs SSDLite and segmentors only.
* ``rows``: a JSON file that keeps every measured config (written after each one) with the settings it was measured
  with; a later run with the same settings takes the configs it holds from it instead of measuring them again, so a
  long zoo can run in parts (``--configs`` patterns) or resume after an interruption.
* Paper figures: ``densenets/analysis/paper_figures.py`` (mAP / mIoU and Pixel phone latencies: for reference, not
  comparable with a desktop CPU).
"""
from __future__ import annotations

import datetime
import fnmatch
import importlib.util
import json
import os
import platform
import shutil
import tempfile
import textwrap
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import torch

from .backends import BACKEND_CHOICES, backend_candidate
from .bench_inputs import eval_image_shape, padded_shape, task_of
from .complexity import count_complexity
from .paper_figures import ALL as PAPER_ROWS
from .paper_figures import PaperFigures, paper_figures
from .timing import Timing, time_fn

ROOT = Path(__file__).resolve().parents[2]
PATTERNS = {"ssdlite": "ssdlite_*.py", "faster_rcnn": "faster_rcnn_*.py", "segmentation": "*aspp*.py"}
TITLES = {
    "ssdlite": "SSDLite (COCO)", "faster_rcnn": "Faster R-CNN (COCO)", "segmentation": "Segmentation (Cityscapes)",
}
SEG_FULL, SEG_HALF, SSD_SIZE = (1024, 2048), (512, 1024), (320, 320)
BACKEND_LABELS = {
    "eager": "PyTorch eager", "fused": "eager, BN folded + channels-last", "onnxruntime": "onnxruntime",
    "executorch": "ExecuTorch fp32", "executorch_int8": "ExecuTorch int8",
}
EXPORTED = ("onnxruntime", "executorch", "executorch_int8")  # programs: SSDLite and segmentors only
#: backend -> (marker, colour) in the plot
STYLES = {"eager": ("o", "tab:blue"), "fused": ("D", "tab:purple"), "onnxruntime": ("s", "tab:orange"),
          "executorch": ("^", "tab:green"), "executorch_int8": ("v", "tab:red")}
CALIB_IMAGES = 2  # random 0..255 images calibrating the int8 programs (latency only; see the module docstring)


@dataclass
class ZooOptions:
    """How the zoo is measured and where it is written."""

    threads: int = 1
    runs: int = 20
    warmup: int = 3
    max_seconds: float = 10.0  # timed seconds per figure before stopping early
    no_latency: bool = False  # params and MAdds only
    out: str = "docs/model_zoo.md"
    plot: str | None = None  # PNG of accuracy vs latency
    backends: tuple[str, ...] = ("eager",)
    export_dir: str = "work_dirs/zoo_exports"  # the exported programs while they are timed
    rows: str | None = None  # JSON keeping each measured config; configs already in it are reused (same settings)


@dataclass
class Row:
    name: str
    task: str
    shape: tuple[int, int]
    params: int
    madds: int
    latency: dict[str, Timing] = field(default_factory=dict)  # backend -> network alone at ``shape``
    latency_half: dict[str, Timing] = field(default_factory=dict)  # segmentation at 512x1024
    paper: PaperFigures | None = None
    errors: dict[str, str] = field(default_factory=dict)  # "backend HxW" -> why it has no figure


# -- the rows file: a long zoo in parts ---------------------------------------------------------------------------
def settings(options: ZooOptions) -> dict:
    """What a measured row depends on; rows of a rows file measured otherwise are not reused."""
    return dict(threads=options.threads, runs=options.runs, warmup=options.warmup, max_seconds=options.max_seconds,
                no_latency=options.no_latency, backends=list(options.backends), torch=torch.__version__)


def _row_dict(row: Row, seconds: float) -> dict:
    return dict(task=row.task, shape=list(row.shape), params=row.params, madds=row.madds,
                latency={b: asdict(t) for b, t in row.latency.items()},
                latency_half={b: asdict(t) for b, t in row.latency_half.items()}, errors=row.errors, seconds=seconds)


def load_rows(path: str | None, options: ZooOptions) -> dict[str, tuple[Row, float]]:
    """The rows (and measuring seconds) kept in ``path`` by earlier runs; ``{}`` when it does not exist yet."""
    if not path or not os.path.exists(path):
        return {}
    try:
        data = json.loads(Path(path).read_text())
        saved, items = data["settings"], data["rows"].items()
        rows = {name: (Row(name, d["task"], tuple(d["shape"]), d["params"], d["madds"],
                           {b: Timing(**t) for b, t in d["latency"].items()},
                           {b: Timing(**t) for b, t in d["latency_half"].items()}, paper_figures(name),
                           dict(d["errors"])), float(d["seconds"])) for name, d in items}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise ValueError(f"model_zoo: {path}: not a rows file of this tool ({type(err).__name__}: {err}); "
                         "remove it to measure again") from err
    now = settings(options)
    if saved != now:
        differ = ", ".join(f"{k} {saved.get(k)!r} there, {now.get(k)!r} now" for k in sorted(set(saved) | set(now))
                           if saved.get(k) != now.get(k))
        raise ValueError(f"model_zoo: {path} holds rows measured with other settings ({differ}); run with the same "
                         "options or remove the file")
    return rows


def save_rows(path: str, rows: dict[str, tuple[Row, float]], options: ZooOptions) -> None:
    from densenets.engine.checkpoint import atomic_write_bytes

    data = dict(settings=settings(options), rows={name: _row_dict(r, sec) for name, (r, sec) in rows.items()})
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(json.dumps(data, indent=1).encode(), path)


def discover(configs_dir: Path, only: list[str] | None) -> list[tuple[str, Path]]:
    """The zoo's configs; ``only``: config names or shell patterns of names (``ssdlite_mbv3_*``)."""
    found: list[tuple[str, Path]] = []
    for task, pattern in PATTERNS.items():
        for path in sorted(configs_dir.glob(pattern)):
            if only is None or any(fnmatch.fnmatchcase(path.stem, name) for name in only):
                found.append((task, path))
    if only is not None:
        missing = sorted(n for n in only if not any(fnmatch.fnmatchcase(p.stem, n) for _, p in found))
        if missing:
            raise ValueError(f"model_zoo: no config named {', '.join(missing)} under {configs_dir} "
                             f"(expected ssdlite_*, faster_rcnn_* or *aspp* files)")
    return found


def _paper_order(item: tuple[str, Path]) -> tuple[int, int, str]:
    """Tasks in table order; within a task the papers' row order, then configs without paper figures by name."""
    task, path = item
    order = list(PAPER_ROWS)
    return (list(PATTERNS).index(task), order.index(path.stem) if path.stem in order else len(order), path.stem)


def task_backends(task: str, backends: Sequence[str]) -> list[str]:
    """The backends a task's rows are measured on (Faster R-CNN: the eager ones)."""
    return [b for b in backends if task != "faster_rcnn" or b not in EXPORTED]


def check_backends(backends: Sequence[str]) -> None:
    """Unknown backends, or ExecuTorch without the ``mobile`` extra, are errors before anything is measured."""
    unknown = [b for b in backends if b not in BACKEND_CHOICES]
    if unknown or not backends:
        raise ValueError(f"model_zoo: backends must be some of {', '.join(BACKEND_CHOICES)}, got {list(backends)}")
    if any(b.startswith("executorch") for b in backends) and importlib.util.find_spec("executorch") is None:
        raise ValueError("model_zoo: the executorch backends need the mobile extra (pip install -e .[mobile])")
    if "onnxruntime" in backends and importlib.util.find_spec("onnxruntime") is None:
        raise ValueError("model_zoo: the onnxruntime backend needs the onnxruntime package")


def measure(task: str, path: Path, args: ZooOptions, log=print) -> Row:
    from densenets.apis import build_model, load_config

    options = {"model.num_classes": 90} if task == "ssdlite" else {}
    cfg = load_config(str(path), options)
    model = build_model(cfg).eval()
    if task == "segmentation":
        shape = SEG_FULL
    elif task == "ssdlite":
        shape = SSD_SIZE
    else:
        shape = padded_shape(model, eval_image_shape(cfg))
    if task == "segmentation":  # shapes only: the meta device skips the arithmetic of a 2-megapixel forward pass
        with torch.device("meta"):
            meta_model = build_model(cfg).eval()
        c = count_complexity(meta_model, shape, forward=lambda m, x: m(x.to("meta"), mode="tensor"))
    else:
        c = count_complexity(model, shape)
    if task_of(model) != task:
        raise ValueError(f"model_zoo: {path} builds a {task_of(model)} model, expected {task} from its name")
    row = Row(path.stem, task, shape, c.params, c.madds, paper=paper_figures(path.stem))
    if not args.no_latency:
        sizes = [(shape, row.latency)] + ([(SEG_HALF, row.latency_half)] if task == "segmentation" else [])
        for hw, into in sizes:
            for backend in task_backends(task, args.backends):
                t0 = time.perf_counter()
                try:
                    into[backend] = _time_backend(backend, model, hw, args)
                except Exception as err:  # noqa: BLE001 -- one failing export must not lose the rest of the zoo
                    reason = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"
                    row.errors[f"{backend} {hw[0]}x{hw[1]}"] = reason
                    log(f"  {row.name} {backend} {hw[0]}x{hw[1]}: no figure ({reason})")
                    continue
                log(f"  {row.name} {backend} {hw[0]}x{hw[1]}: {_lat(into[backend])} "
                    f"({time.perf_counter() - t0:.0f} s with the export)")
    return row


def _time_backend(backend: str, model: torch.nn.Module, hw: tuple[int, int], args: ZooOptions) -> Timing:
    """Network alone on ``backend`` (one export for an exported backend, removed after timing)."""
    if backend not in EXPORTED:  # eager / fused: nothing is written
        return _time_model_only(backend_candidate(backend, model, hw, hw, "", args.threads).model_only, args)
    os.makedirs(args.export_dir, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix=f"{backend}_", dir=args.export_dir)
    try:
        calib = None
        if backend == "executorch_int8":
            g = torch.Generator().manual_seed(0)
            calib = [torch.rand(1, 3, *hw, generator=g) * 255 for _ in range(CALIB_IMAGES)]
        candidate = backend_candidate(backend, model, hw, hw, workdir, args.threads, calib=calib)
        return _time_model_only(candidate.model_only, args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@torch.inference_mode()
def _time_model_only(fn, args: ZooOptions) -> Timing:
    """One untimed probe call; models slower than a second get no further warm-up (the probe was one)."""
    t0 = time.perf_counter()
    fn()
    warmup = max(args.warmup - 1, 0) if time.perf_counter() - t0 < 1.0 else 0
    return time_fn(fn, args.runs, warmup, max_seconds=args.max_seconds)


# -- output -----------------------------------------------------------------------------------------------------
def _num(v: float | None, fmt: str) -> str:
    return "–" if v is None else format(v, fmt)


def _lat(t: Timing | None, seconds: bool = False) -> str:
    if t is None:
        return "–"
    if seconds:
        return f"{t.median:.2f} s ({t.p25:.2f}–{t.p75:.2f}; n={t.runs})"
    return f"{t.median * 1e3:.1f} ms ({t.p25 * 1e3:.1f}–{t.p75 * 1e3:.1f}; n={t.runs})"


def _columns(task: str, backends: Sequence[str]) -> list[str]:
    """The backends with a latency column: those measured for the task (``eager`` when none is: ``–``)."""
    return task_backends(task, backends) or ["eager"]


def _errors(rows: list[Row]) -> list[str]:
    notes = [f"`{r.name}` {what}: not measured ({why})" for r in rows for what, why in r.errors.items()]
    return (["", *[f"* {n}" for n in notes]] if notes else [])


def table(task: str, rows: list[Row], backends: Sequence[str] = ("eager",)) -> list[str]:
    out = [f"## {TITLES[task]}", ""]
    cols = _columns(task, backends)
    labels = [BACKEND_LABELS[b] for b in cols]
    if task == "ssdlite":
        out += ["Ours at 320x320, 90 classes; latency: CPU 1 thread, network alone. Paper: MobileNetV3 Table 6 "
                "(COCO test-dev mAP, Pixel-1 latency).", "",
                "| config | params (M) | MAdds (B) | " + " | ".join(labels) + " | paper mAP | paper Pixel-1 | "
                "paper params (M) | paper MAdds (B) |", "|---" * (7 + len(cols)) + "|"]
        for r in rows:
            p = r.paper or PaperFigures("")
            lat = " | ".join(_lat(r.latency.get(b)) for b in cols)
            out.append(f"| `{r.name}` | {r.params / 1e6:.2f} | {r.madds / 1e9:.3f} | {lat} | "
                       f"{_num(p.metric, '.1f')} | {_num(p.latency_ms, '.0f')} ms | {_num(p.params_m, '.2f')} | "
                       f"{_num(p.madds_b, '.2f')} |".replace("– ms", "–"))
    elif task == "faster_rcnn":
        exported = [BACKEND_LABELS[b] for b in backends if b in EXPORTED]
        note = (f" Not on {', '.join(exported)}: Faster R-CNN does not export to ExecuTorch (no kernel for "
                "`torchvision::roi_align`) and the exported-program runner takes SSDLite and segmentors only."
                if exported else "")
        out += ["Ours at the config's test resize of a 640x480 photo, padded to 32; MAdds include the second stage on "
                "every test-time proposal; latency: CPU 1 thread, network alone." + note + " Reference mAP: "
                "ShuffleNet Table 7 (COCO minival) or torchvision.", "",
                "| config | input | params (M) | MAdds (B) | " + " | ".join(labels) + " | reference mAP | source |",
                "|---" * (6 + len(cols)) + "|"]
        for r in rows:
            p = r.paper or PaperFigures("–")
            lat = " | ".join(_lat(r.latency.get(b)) for b in cols)
            out.append(f"| `{r.name}` | {r.shape[0]}x{r.shape[1]} | {r.params / 1e6:.2f} | {r.madds / 1e9:.2f} | "
                       f"{lat} | {_num(p.metric, '.1f')} | {p.source} |")
    else:
        heads = [f"{label} {size}" for label in labels for size in ("1024x2048", "512x1024")]
        out += ["Ours at 1024x2048 and 512x1024, 19 classes; latency: CPU 1 thread, network alone. Paper: "
                "MobileNetV3 Table 7 (Cityscapes val mIoU; Pixel-3 one core) / Table 8 (test set). Paper MAdds count "
                "TF's 1025x2049 crop and, for V3, the h-swish / SE multiplies; ours count convolutions only at "
                "1024x2048, so they are a few % lower.", "",
                "| config | params (M) | MAdds (B) | " + " | ".join(heads) + " | paper mIoU | paper params (M) | "
                "paper MAdds (B) | paper CPU full | paper CPU half |", "|---" * (8 + len(heads)) + "|"]
        for r in rows:
            p = r.paper or PaperFigures("")
            full = "–" if p.latency_ms is None else f"{p.latency_ms / 1e3:.2f} s"
            half = "–" if p.latency_half_ms is None else f"{p.latency_half_ms:.0f} ms"
            lat = " | ".join(f"{_lat(r.latency.get(b), True)} | {_lat(r.latency_half.get(b))}" for b in cols)
            out.append(f"| `{r.name}` | {r.params / 1e6:.3f} | {r.madds / 1e9:.2f} | {lat} | "
                       f"{_num(p.metric, '.2f')} | {_num(p.params_m, '.2f')} | "
                       f"{_num(p.madds_b, '.2f')} | {full} | {half} |")
    return out + _errors(rows) + [""]


def environment(args: ZooOptions) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = [f"torch {torch.__version__}"]
    for backend, package in (("onnxruntime", "onnxruntime"), ("executorch", "executorch")):
        if not args.no_latency and any(b.startswith(backend) for b in args.backends):
            from importlib.metadata import PackageNotFoundError, version

            try:
                versions.append(f"{package} {version(package)}")
            except PackageNotFoundError:
                pass
    return (f"{cpu}; {', '.join(versions)}, {args.threads} thread(s) (OMP_NUM_THREADS="
            f"{os.environ.get('OMP_NUM_THREADS', 'unset')}); {args.runs} timed runs after {args.warmup} warm-up, at "
            f"most {args.max_seconds:g} s of timed runs per figure")


PLOT_CAPTION = (
    "Accuracy against latency: the papers' COCO mAP (MobileNetV3 Table 6 for SSDLite; ShuffleNet Table 7, or "
    "torchvision's published figure for the MobileNetV3 FPN models, for Faster R-CNN) and Cityscapes mIoU "
    "(MobileNetV3 Table 7 val; Table 8 test set for the OS-32 rows) on the y axis — densenets' own accuracy on "
    "COCO / Cityscapes is not measured here, and configs without a published figure are left out of the plot "
    "(they are in the tables) — against the network-alone latency measured here on the x axis (log; 1 thread, "
    "batch 1, random weights; SSDLite at 320x320, segmentation at 1024x2048, Faster R-CNN at its test size). One "
    "marker per backend; a thin line joins the backends of one model. Faster R-CNN has eager markers only (no "
    "ExecuTorch export: `torchvision::roi_align`). The int8 programs are calibrated on random images: their latency "
    "holds, their accuracy is not the paper's (see README \"On device\" for int8 accuracy on the demo sets).")


def write_markdown(rows: list[Row], args: ZooOptions, command: str, elapsed: float, reused: int = 0) -> None:
    measured = ", ".join(BACKEND_LABELS[b] for b in args.backends)
    earlier = (f" ({reused} of the {len(rows)} configs measured by earlier runs with the same settings, kept in "
               f"`{args.rows}`)" if reused else "")
    lines = ["# Model zoo (measured)", "",
             f"Generated by `{command}` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
             f"{elapsed / 60:.1f} min of measurement{earlier}. Do not edit by hand.", "",
             f"Machine: {environment(args)}.", "",
             f"Latency = the network alone, batch 1, random weights, on {measured} "
             "(`densenets/analysis/backends.py`: eager `model(x, mode='tensor')` without BN folding; the exported "
             "programs have BN folded and the normalisation inside; ExecuTorch int8 is calibrated on random images): "
             "median (p25–p75; number of timed runs). End-to-end figures and torchvision comparisons: "
             "`tools/analysis/benchmark.py`. Params / MAdds: `densenets.analysis.count_complexity` (convolutions and "
             "fully-connected layers).", ""]
    for task in PATTERNS:
        task_rows = [r for r in rows if r.task == task]
        if task_rows:
            lines += table(task, task_rows, args.backends)
    if args.plot:
        lines += [f"![accuracy vs latency]({os.path.relpath(args.plot, os.path.dirname(os.path.abspath(args.out)))})",
                  "", PLOT_CAPTION, ""]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines))


# -- the plot ---------------------------------------------------------------------------------------------------
PANEL_AXES = {
    "ssdlite": ("SSDLite, 320x320", "COCO mAP (MobileNetV3 Table 6, test-dev)"),
    "faster_rcnn": ("Faster R-CNN, the config's test size", "COCO mAP (ShuffleNet Table 7 minival; FPN: torchvision)"),
    "segmentation": ("Segmentation, 1024x2048", "Cityscapes mIoU (MobileNetV3 Table 7 val; OS-32: Table 8 test)"),
}
LABEL_FONTSIZE = 7


def plot_label(row: Row) -> str:
    """The config name without its task's prefix / suffix, marked where the figure is not a paper's val figure."""
    name = row.name.removeprefix("ssdlite_").removeprefix("faster_rcnn_").removesuffix("_cityscapes")
    p = row.paper
    if p is not None and "torchvision" in p.source:
        name += " (torchvision mAP)"
    elif p is not None and "test set" in p.source:
        name += " (test set)"
    return name


def plot_points(rows: list[Row], backends: Sequence[str]) -> dict[str, list[tuple[Row, dict[str, float]]]]:
    """Per task: the rows with a paper accuracy and at least one latency, with ``backend -> ms``."""
    panels: dict[str, list[tuple[Row, dict[str, float]]]] = {}
    for r in rows:
        if r.paper is None or r.paper.metric is None:
            continue
        ms = {b: r.latency[b].median * 1e3 for b in backends if b in r.latency}
        if ms:
            panels.setdefault(r.task, []).append((r, ms))
    return {task: panels[task] for task in PATTERNS if task in panels}


def _overlaps(box, boxes) -> bool:
    return any(box.overlaps(b) for b in boxes)


def place_labels(ax, items: list[tuple[str, list[tuple[float, float]]]], renderer, step_pt: float = 4.0,
                 tries: int = 16) -> list:
    """Label each model without overlaps: deterministic, greedy in order of accuracy (highest first).

    ``items``: ``(text, [(x, y), ...])`` in data coordinates, the points of one model. For each label the
    candidates are, in order, beside the model's rightmost point, beside its leftmost point, then the same moved
    up / down by ``step_pt`` steps (with a thin leader line back to the point); the first whose text box stays inside
    the axes and touches neither a placed label nor a marker is kept (else the one overlapping least). The text
    boxes are the renderer's extents (``get_window_extent``)."""
    from matplotlib.transforms import Bbox

    px = renderer.points_to_pixels(1.0)
    inside = ax.get_window_extent(renderer)
    marker_r = 4.0 * px
    markers = [Bbox.from_bounds(x - marker_r, y - marker_r, 2 * marker_r, 2 * marker_r)
               for _, pts in items for x, y in ax.transData.transform(pts)]
    placed_boxes: list = []
    texts: list = []
    order = sorted(range(len(items)), key=lambda i: (-max(y for _, y in items[i][1]), min(x for x, _ in items[i][1])))
    for i in order:
        text, pts = items[i]
        disp = ax.transData.transform(pts)
        right, left = pts[int(disp[:, 0].argmax())], pts[int(disp[:, 0].argmin())]
        middle = pts[int(abs(disp[:, 0] - disp[:, 0].mean()).argmin())]
        candidates = []
        for k in range(tries):
            for dy in ((0.0,) if k == 0 else (k * step_pt, -k * step_pt)):
                candidates += [(right, (6.0, dy), "left"), (left, (-6.0, dy), "right")]
                if abs(dy) >= 2 * step_pt:  # straight above / below the model's middle point
                    candidates.append((middle, (0.0, dy), "center"))
        best, best_cost = None, None
        for anchor, (dx, dy), ha in candidates:
            ann = ax.annotate(text, anchor, xytext=(dx, dy), textcoords="offset points", ha=ha, va="center",
                              fontsize=LABEL_FONTSIZE)
            box = ann.get_window_extent(renderer).padded(1.0)  # no leader yet: the text's box
            ann.remove()
            fits = box.x0 >= inside.x0 and box.x1 <= inside.x1 and box.y0 >= inside.y0 and box.y1 <= inside.y1
            cost = (0 if fits else 1000) + sum(box.overlaps(b) for b in placed_boxes) * 10 + \
                sum(box.overlaps(b) for b in markers)
            if best_cost is None or cost < best_cost:
                best, best_cost = (anchor, (dx, dy), ha, box), cost
            if cost == 0:
                break
        anchor, (dx, dy), ha, box = best
        arrow = None if dy == 0 else dict(arrowstyle="-", color="0.55", lw=0.5, shrinkA=0, shrinkB=3)
        ann = ax.annotate(text, anchor, xytext=(dx, dy), textcoords="offset points", ha=ha, va="center",
                          fontsize=LABEL_FONTSIZE, arrowprops=arrow)
        placed_boxes.append(box)
        texts.append(ann)
    return texts


def zoo_figure(rows: list[Row], title: str, backends: Sequence[str] = BACKEND_CHOICES):
    """Accuracy (the papers' figure) against measured latency: one panel per task, one marker per backend, the
    backends of one model joined by a thin line, labels placed by :func:`place_labels`. Returns the figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    panels = plot_points(rows, backends)
    if not panels:
        raise ValueError("model_zoo: nothing to plot (no config with both a paper accuracy and a latency)")
    used = [b for b in backends if any(b in ms for pts in panels.values() for _, ms in pts)]
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 4.6 * len(panels)), dpi=120, squeeze=False)
    for ax, (task, pts) in zip(axes[:, 0], panels.items()):
        ax.set_xscale("log")
        for r, ms in pts:
            xs = [ms[b] for b in used if b in ms]
            if len(xs) > 1:
                order = sorted(xs)
                ax.plot(order, [r.paper.metric] * len(order), color="0.6", lw=0.7, zorder=1)
        for b in used:
            marker, colour = STYLES[b]
            xy = [(ms[b], r.paper.metric) for r, ms in pts if b in ms]
            if not xy:
                continue
            ax.plot([x for x, _ in xy], [y for _, y in xy], linestyle="none", marker=marker, color=colour,
                    markersize=5, label=BACKEND_LABELS[b], zorder=3)
        xs = [x for _, ms in pts for x in ms.values()]
        ys = [r.paper.metric for r, _ in pts]
        ax.set_xlim(min(xs) / 2.2, max(xs) * 2.2)  # room for the labels on either side
        span = max(max(ys) - min(ys), 1.0)
        ax.set_ylim(min(ys) - 0.25 * span, max(ys) + 0.25 * span)
        name, ylabel = PANEL_AXES[task]
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("latency, network alone (ms, median; log scale)", fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # 10, 100 ms; minor: 2, 3, 5 x 10^k
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "235" else ""))
        ax.tick_params(which="both", labelsize=7)
    handles = [Line2D([], [], linestyle="none", marker=STYLES[b][0], color=STYLES[b][1], label=BACKEND_LABELS[b])
               for b in used]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.suptitle(textwrap.fill(title, 140), fontsize=8)
    fig.tight_layout(rect=(0, 0.045 / len(panels) * 2, 1, 1 - 0.03 / len(panels) * 2))
    fig.canvas.draw()  # fixes the layout: the labels are placed in display coordinates
    renderer = fig.canvas.get_renderer()
    for ax, pts in zip(axes[:, 0], panels.values()):
        items = [(plot_label(r), [(x, r.paper.metric) for x in ms.values()]) for r, ms in pts]
        place_labels(ax, items, renderer)
    return fig


def write_plot(rows: list[Row], path: str, title: str, backends: Sequence[str] = BACKEND_CHOICES) -> None:
    import matplotlib.pyplot as plt

    fig = zoo_figure(rows, title, backends)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=fig.dpi)
    plt.close(fig)


def zoo_tables(rows: list[Row], backends: Sequence[str] = ("eager",)) -> str:
    """The per-task tables (the README's model-zoo block; docs/model_zoo.md adds a header and the plot)."""
    lines: list[str] = []
    for task in PATTERNS:
        task_rows = [r for r in rows if r.task == task]
        if task_rows:
            lines += ["#" + line if line.startswith("## ") else line for line in table(task, task_rows, backends)]
    return "\n".join(lines).strip("\n")


def run_zoo(options: ZooOptions, configs: list[str] | None = None, configs_dir: Path = ROOT / "configs",
            command: str = "", log=print) -> list[Row]:
    """Measure every config (or those named), write ``options.out`` (and ``options.plot``); returns the rows."""
    if options.plot and options.no_latency:
        raise ValueError("model_zoo: a plot needs latencies")
    if not options.no_latency:
        check_backends(options.backends)
    torch.set_num_threads(options.threads)
    start = time.perf_counter()
    kept = load_rows(options.rows, options)
    rows, elapsed, reused = [], 0.0, 0
    for task, path in sorted(discover(Path(configs_dir), configs), key=_paper_order):
        if path.stem in kept and kept[path.stem][0].task == task:
            row, seconds = kept[path.stem]
            reused += 1
            log(f"{row.name}: measured earlier, kept in {options.rows}")
        else:
            t0 = time.perf_counter()
            row = measure(task, path, options, log)
            seconds = time.perf_counter() - t0
            if options.rows:  # after every config: an interrupted run loses at most the config it was measuring
                kept[row.name] = (row, seconds)
                save_rows(options.rows, kept, options)
        elapsed += seconds
        rows.append(row)
        lat = "  ".join(f"{b} {_lat(t)}" for b, t in row.latency.items())
        half = "  ".join(f"{b} {_lat(t)}" for b, t in row.latency_half.items())
        log(f"{row.name:40s} {row.params / 1e6:7.3f}M {row.madds / 1e9:8.3f}B  {lat}" + (f"  | half {half}" if half
                                                                                         else ""))
    write_markdown(rows, options, command, elapsed, reused)
    if options.plot:
        write_plot(rows, options.plot, f"densenets model zoo — {environment(options)}", options.backends)
    log(f"wrote {options.out}" + (f" and {options.plot}" if options.plot else "")
        + f" in {time.perf_counter() - start:.0f} s")
    return rows
