"""The measured model zoo: params, MAdds and 1-thread CPU latency of every config, next to the papers' figures.
Run by ``tools/analysis/complexity.py --table zoo`` (docs/model_zoo.md, the plot, and with ``--write-readme`` the
README's model-zoo block).

One Markdown table per task (SSDLite, Faster R-CNN, segmentation) and a scatter plot of MAdds vs latency (log-log).
* Params: every parameter of the model as the config builds it.
* MAdds: multiply-adds of convolutions and fully-connected layers (``densenets.analysis.count_complexity``) per image
  at the paper's input size: SSDLite 320x320 with 90 classes (TF's label map, as MobileNetV3 Table 6 counts);
  segmentation 1024x2048 with 19 classes (MobileNetV3 Table 7); Faster R-CNN at the config's test resize of a
  640x480 COCO photo, padded to a multiple of 32 (shorter side 300 -> 320x416, 600 -> 608x800, 800 -> 800x1088,
  320 (max 640) -> 320x448), including the second stage on all of the model's test-time proposals.
* Latency: model only (``model(x, mode="tensor")``, random weights, eval mode, no BN folding), median of ``--runs``
  timed runs after ``--warmup`` (``densenets.analysis.timing``) on this machine's CPU with ``--threads`` threads, at
  the same input size as the MAdds; segmentation also at 512x1024. Second-long runs stop after ``--max-seconds``
  of timed runs per figure (at least one run), so the segmentation rows use few runs.
* Paper figures: ``densenets/analysis/paper_figures.py`` (mAP / mIoU and Pixel phone latencies: for reference, not
  comparable with a desktop CPU).
"""
from __future__ import annotations

import datetime
import os
import platform
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .bench_inputs import eval_image_shape, model_runners, padded_shape, task_of
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


@dataclass
class ZooOptions:
    """How the zoo is measured and where it is written."""

    threads: int = 1
    runs: int = 20
    warmup: int = 3
    max_seconds: float = 10.0  # timed seconds per figure before stopping early
    no_latency: bool = False  # params and MAdds only
    out: str = "docs/model_zoo.md"
    plot: str | None = None  # PNG of MAdds vs latency


@dataclass
class Row:
    name: str
    task: str
    shape: tuple[int, int]
    params: int
    madds: int
    latency: Timing | None = None
    latency_half: Timing | None = None
    paper: PaperFigures | None = None
    extra: dict = field(default_factory=dict)


def discover(configs_dir: Path, only: list[str] | None) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for task, pattern in PATTERNS.items():
        for path in sorted(configs_dir.glob(pattern)):
            if only is None or path.stem in only:
                found.append((task, path))
    if only is not None:
        missing = sorted(set(only) - {p.stem for _, p in found})
        if missing:
            raise ValueError(f"model_zoo: no config named {', '.join(missing)} under {configs_dir} "
                             f"(expected ssdlite_*, faster_rcnn_* or *aspp* files)")
    return found


def _paper_order(item: tuple[str, Path]) -> tuple[int, int, str]:
    """Tasks in table order; within a task the papers' row order, then configs without paper figures by name."""
    task, path = item
    order = list(PAPER_ROWS)
    return (list(PATTERNS).index(task), order.index(path.stem) if path.stem in order else len(order), path.stem)


def measure(task: str, path: Path, args: ZooOptions) -> Row:
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
        row.latency = _time_model_only(model, shape, args)
        if task == "segmentation":
            row.latency_half = _time_model_only(model, SEG_HALF, args)
    return row


@torch.inference_mode()
def _time_model_only(model: torch.nn.Module, shape: tuple[int, int], args: ZooOptions) -> Timing:
    """One untimed probe call; models slower than a second get no further warm-up (the probe was one)."""
    fn, _ = model_runners(model, shape)
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


def table(task: str, rows: list[Row]) -> list[str]:
    out = [f"## {TITLES[task]}", ""]
    if task == "ssdlite":
        out += ["Ours at 320x320, 90 classes. Paper: MobileNetV3 Table 6 (COCO test-dev mAP, Pixel-1 latency).", "",
                "| config | params (M) | MAdds (B) | CPU 1-thread | paper mAP | paper Pixel-1 | paper params (M) "
                "| paper MAdds (B) |", "|---|---|---|---|---|---|---|---|"]
        for r in rows:
            p = r.paper or PaperFigures("")
            out.append(f"| `{r.name}` | {r.params / 1e6:.2f} | {r.madds / 1e9:.3f} | {_lat(r.latency)} | "
                       f"{_num(p.metric, '.1f')} | {_num(p.latency_ms, '.0f')} ms | {_num(p.params_m, '.2f')} | "
                       f"{_num(p.madds_b, '.2f')} |".replace("– ms", "–"))
    elif task == "faster_rcnn":
        out += ["Ours at the config's test resize of a 640x480 photo, padded to 32; MAdds include the second stage on "
                "every test-time proposal. Reference mAP: ShuffleNet Table 7 (COCO minival) or torchvision.", "",
                "| config | input | params (M) | MAdds (B) | CPU 1-thread | reference mAP | source |",
                "|---|---|---|---|---|---|---|"]
        for r in rows:
            p = r.paper or PaperFigures("–")
            out.append(f"| `{r.name}` | {r.shape[0]}x{r.shape[1]} | {r.params / 1e6:.2f} | {r.madds / 1e9:.2f} | "
                       f"{_lat(r.latency)} | {_num(p.metric, '.1f')} | {p.source} |")
    else:
        out += ["Ours at 1024x2048 and 512x1024, 19 classes. Paper: MobileNetV3 Table 7 (Cityscapes val mIoU; "
                "Pixel-3 one core) / Table 8 (test set). Paper MAdds count TF's 1025x2049 crop and, for V3, the "
                "h-swish / SE multiplies; ours count convolutions only at 1024x2048, so they are a few % lower.", "",
                "| config | params (M) | MAdds (B) | CPU 1024x2048 | CPU 512x1024 | paper mIoU | paper params (M) | "
                "paper MAdds (B) | paper CPU full | paper CPU half |", "|---|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            p = r.paper or PaperFigures("")
            full = "–" if p.latency_ms is None else f"{p.latency_ms / 1e3:.2f} s"
            half = "–" if p.latency_half_ms is None else f"{p.latency_half_ms:.0f} ms"
            out.append(f"| `{r.name}` | {r.params / 1e6:.3f} | {r.madds / 1e9:.2f} | {_lat(r.latency, True)} | "
                       f"{_lat(r.latency_half)} | {_num(p.metric, '.2f')} | {_num(p.params_m, '.2f')} | "
                       f"{_num(p.madds_b, '.2f')} | {full} | {half} |")
    return out + [""]


def environment(args: ZooOptions) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}; torch {torch.__version__}, {args.threads} thread(s) (OMP_NUM_THREADS="
            f"{os.environ.get('OMP_NUM_THREADS', 'unset')}); {args.runs} timed runs after {args.warmup} warm-up, at "
            f"most {args.max_seconds:g} s of timed runs per figure")


def write_markdown(rows: list[Row], args: ZooOptions, command: str, elapsed: float) -> None:
    lines = ["# Model zoo (measured)", "",
             f"Generated by `{command}` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC in "
             f"{elapsed / 60:.1f} min. Do not edit by hand.", "",
             f"Machine: {environment(args)}.", "",
             "Latency = model only (`model(x, mode='tensor')`, random weights, eval mode, PyTorch eager, no BN "
             "folding): median (p25–p75; number of timed runs). End-to-end figures, BN folding, onnxruntime and "
             "torchvision comparisons: `tools/analysis/benchmark.py`. Params / MAdds: "
             "`densenets.analysis.count_complexity` (convolutions and fully-connected layers).", ""]
    for task in PATTERNS:
        task_rows = [r for r in rows if r.task == task]
        if task_rows:
            lines += table(task, task_rows)
    if args.plot:
        lines += [f"![MAdds vs latency]({os.path.relpath(args.plot, os.path.dirname(os.path.abspath(args.out)))})",
                  ""]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines))


def write_plot(rows: list[Row], path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 7), dpi=120)
    markers = {"ssdlite": ("o", "tab:blue"), "faster_rcnn": ("s", "tab:orange"), "segmentation": ("^", "tab:green")}
    for task, (marker, colour) in markers.items():
        pts = [(r.madds / 1e9, r.latency.median * 1e3, r.name) for r in rows if r.task == task and r.latency]
        if not pts:
            continue
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], marker=marker, color=colour, label=TITLES[task])
        for x, y, name in pts:
            ax.annotate(name, (x, y), fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("MAdds per image (billions; SSDLite 320x320, Faster R-CNN at its test size, segmentation 1024x2048)")
    ax.set_ylabel("CPU latency, model only (ms, median)")
    ax.set_title(textwrap.fill(title, 120), fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def zoo_tables(rows: list[Row]) -> str:
    """The per-task tables (the README's model-zoo block; docs/model_zoo.md adds a header and the plot)."""
    lines: list[str] = []
    for task in PATTERNS:
        task_rows = [r for r in rows if r.task == task]
        if task_rows:
            lines += ["#" + line if line.startswith("## ") else line for line in table(task, task_rows)]
    return "\n".join(lines).strip("\n")


def run_zoo(options: ZooOptions, configs: list[str] | None = None, configs_dir: Path = ROOT / "configs",
            command: str = "", log=print) -> list[Row]:
    """Measure every config (or those named), write ``options.out`` (and ``options.plot``); returns the rows."""
    if options.plot and options.no_latency:
        raise ValueError("model_zoo: a plot needs latencies")
    torch.set_num_threads(options.threads)
    start = time.perf_counter()
    rows = []
    for task, path in sorted(discover(Path(configs_dir), configs), key=_paper_order):
        row = measure(task, path, options)
        rows.append(row)
        log(f"{row.name:40s} {row.params / 1e6:7.3f}M {row.madds / 1e9:8.3f}B  {_lat(row.latency)}"
            + (f"  half {_lat(row.latency_half)}" if row.latency_half else ""))
    elapsed = time.perf_counter() - start
    write_markdown(rows, options, command, elapsed)
    if options.plot:
        write_plot(rows, options.plot, f"densenets model zoo — {environment(options)}")
    log(f"wrote {options.out}" + (f" and {options.plot}" if options.plot else "") + f" in {elapsed:.0f} s")
    return rows
