"""The model-zoo plot and tables (``densenets/analysis/model_zoo.py``) on synthetic rows: accuracy = the papers'
figures (``densenets/analysis/paper_figures.py``: MobileNetV3 Tables 6 / 7 / 8, ShuffleNet Table 7), one marker
per backend per model, one legend entry per backend, and label boxes (the renderer's text extents) that do not
intersect. No model is timed here."""
from __future__ import annotations

import itertools

import pytest
from matplotlib.text import Text

from densenets.analysis.model_zoo import (
    BACKEND_LABELS, Row, place_labels, plot_label, table, zoo_figure, zoo_tables,
)
from densenets.analysis.paper_figures import FASTER_RCNN, SEGMENTATION, SSDLITE, paper_figures
from densenets.analysis.timing import Timing

BACKENDS = ("eager", "onnxruntime", "executorch", "executorch_int8")
# eager / exported ratios like the README's "On device" SSDLite row (29.6 / 12.0 / 14.4 / 9.7 ms)
RATIOS = {"eager": 1.0, "onnxruntime": 0.41, "executorch": 0.49, "executorch_int8": 0.33}


def _t(ms: float) -> Timing:
    s = ms / 1e3
    return Timing(s, 0.98 * s, 1.02 * s, 0.97 * s, 10)


def _row(name: str, task: str, eager_ms: float, backends=BACKENDS) -> Row:
    shape = {"ssdlite": (320, 320), "segmentation": (1024, 2048)}.get(task, (320, 416))
    row = Row(name, task, shape, 1_000_000, 1_000_000_000, paper=paper_figures(name))
    row.latency = {b: _t(eager_ms * RATIOS[b]) for b in backends}
    if task == "segmentation":
        row.latency_half = {b: _t(eager_ms * RATIOS[b] / 5) for b in backends}
    return row


def synthetic_rows() -> list[Row]:
    # every Table 6 row: three of them within 0.2 mAP at similar latencies, the labels' hardest case
    eager = dict(zip(SSDLITE, (45.0, 51.7, 37.7, 31.5, 17.5, 21.8, 15.5, 14.3)))
    out = [_row(n, "ssdlite", ms) for n, ms in eager.items()]
    out.append(_row("ssdlite_shufflenet_v1_g3", "ssdlite", 35.3))  # no paper figure: not in the plot
    out += [_row(n, "faster_rcnn", ms, ("eager",)) for n, ms in
            zip(FASTER_RCNN, (3307, 3787, 1477, 1536, 1177, 1343, 667, 132))]
    out.append(_row("faster_rcnn_shufflenet_v2_x1_600", "faster_rcnn", 1021, ("eager",)))
    out += [_row(n, "segmentation", ms) for n, ms in
            zip(SEGMENTATION, (1850, 1800, 1670, 1610, 1190, 1150, 1160, 1150, 910, 630, 420, 1070, 370))]
    return out


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    return synthetic_rows()


@pytest.fixture(scope="module")
def figure(rows):
    import matplotlib.pyplot as plt

    fig = zoo_figure(rows, "synthetic zoo", BACKENDS)
    yield fig
    plt.close(fig)


def _markers(ax) -> dict[str, tuple[list[float], list[float]]]:
    """Legend label -> (x, y) of the marker-only artists (the joining lines have no marker)."""
    return {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in ax.get_lines()
            if line.get_linestyle() == "None"}


def test_one_panel_per_task_one_marker_per_backend_and_model(rows, figure):
    axes = figure.axes
    assert [ax.get_title() for ax in axes] == ["SSDLite, 320x320", "Faster R-CNN, the config's test size",
                                               "Segmentation, 1024x2048"]
    papers = {"ssdlite": SSDLITE, "faster_rcnn": FASTER_RCNN, "segmentation": SEGMENTATION}
    for ax, (task, paper) in zip(axes, papers.items()):
        markers = _markers(ax)
        measured = [r for r in rows if r.task == task and r.name in paper]
        expect_backends = ("eager",) if task == "faster_rcnn" else BACKENDS
        assert list(markers) == [BACKEND_LABELS[b] for b in expect_backends]
        for b in expect_backends:
            xs, ys = markers[BACKEND_LABELS[b]]
            assert len(xs) == len(measured)  # one marker per model: those without a paper figure are left out
            # y: the papers' accuracy; x: the latency measured on that backend (ms)
            assert ys == pytest.approx([paper[r.name].metric for r in measured])
            assert xs == pytest.approx([r.latency[b].median * 1e3 for r in measured])
        assert ax.get_xscale() == "log"
    ssd_y = _markers(axes[0])["PyTorch eager"][1]
    assert ssd_y[7] == 16.1  # Table 6 V3-Small RF2
    assert _markers(axes[2])["ExecuTorch int8"][1][7] == 72.36  # Table 7 row 8


def test_points_of_one_model_are_joined(rows, figure):
    joins = [line for line in figure.axes[0].get_lines() if line.get_linestyle() != "None"]
    assert len(joins) == len(SSDLITE)  # one thin line per SSDLite model across its four backends
    v3_small = rows[7]
    line = next(j for j in joins if j.get_ydata()[0] == v3_small.paper.metric and
                min(j.get_xdata()) == pytest.approx(v3_small.latency["executorch_int8"].median * 1e3))
    assert max(line.get_xdata()) == pytest.approx(v3_small.latency["eager"].median * 1e3)
    assert not [line for line in figure.axes[1].get_lines() if line.get_linestyle() != "None"]  # eager only


def test_one_legend_entry_per_backend(figure):
    (legend,) = figure.legends
    assert [t.get_text() for t in legend.get_texts()] == [BACKEND_LABELS[b] for b in BACKENDS]


def _label_boxes(fig, ax):
    renderer = fig.canvas.get_renderer()
    return [(t.get_text(), Text.get_window_extent(t, renderer)) for t in ax.texts]


def test_labels_name_every_plotted_model_and_do_not_overlap(rows, figure):
    figure.canvas.draw()
    for ax, task in zip(figure.axes, ("ssdlite", "faster_rcnn", "segmentation")):
        boxes = _label_boxes(figure, ax)
        plotted = [r for r in rows if r.task == task and r.paper is not None]
        assert sorted(t for t, _ in boxes) == sorted(plot_label(r) for r in plotted)
        inside = ax.get_window_extent(figure.canvas.get_renderer())
        for (name_a, a), (name_b, b) in itertools.combinations(boxes, 2):
            assert not a.overlaps(b), f"labels {name_a!r} and {name_b!r} overlap"
        for name, box in boxes:
            assert inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1, name
    labels = {t.get_text() for ax in figure.axes for t in ax.texts}
    assert "mbv3_large_fpn (torchvision mAP)" in labels and "lraspp_mbv3_small_os32 (test set)" in labels
    assert "shufflenet_v1_g3" not in labels


def test_labels_of_coincident_points_are_moved_apart():
    """Five models at the very same point: a label beside the point for each would overlap five times over."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.set_xscale("log")
    ax.set_xlim(1, 1000)
    ax.set_ylim(0, 10)
    fig.canvas.draw()
    items = [(f"model number {i}", [(30.0, 5.0), (60.0, 5.0)]) for i in range(5)]
    texts = place_labels(ax, items, fig.canvas.get_renderer())
    boxes = [Text.get_window_extent(t, fig.canvas.get_renderer()) for t in texts]
    assert len(boxes) == 5
    assert not any(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))
    plt.close(fig)


def test_tables_have_one_latency_column_per_backend(rows):
    ssd = table("ssdlite", [r for r in rows if r.task == "ssdlite"], BACKENDS)
    header = [c.strip() for c in ssd[4].strip("|").split("|")]
    assert header[3:7] == [BACKEND_LABELS[b] for b in BACKENDS] and header[7] == "paper mAP"
    small = next(line for line in ssd if line.startswith("| `ssdlite_mbv3_small`"))
    cells = [c.strip() for c in small.strip("|").split("|")]
    assert cells[3].startswith("14.3 ms") and cells[6].startswith(f"{14.3 * 0.33:.1f} ms")
    assert cells[7:] == ["16.1", "43 ms", "1.77", "0.16"]
    seg = table("segmentation", [r for r in rows if r.task == "segmentation"], BACKENDS)
    header = [c.strip() for c in seg[4].strip("|").split("|")]
    assert header[3:5] == ["PyTorch eager 1024x2048", "PyTorch eager 512x1024"]
    assert header[9:11] == ["ExecuTorch int8 1024x2048", "ExecuTorch int8 512x1024"]
    frcnn = "\n".join(table("faster_rcnn", [r for r in rows if r.task == "faster_rcnn"], BACKENDS))
    assert "| PyTorch eager | reference mAP |" in frcnn and "onnxruntime |" not in frcnn
    assert "Not on onnxruntime, ExecuTorch fp32, ExecuTorch int8" in frcnn
    assert zoo_tables(rows, BACKENDS).count("### ") == 3


def test_a_backend_without_a_figure_is_named_under_its_table(rows):
    row = _row("ssdlite_mbv3_small", "ssdlite", 14.3, ("eager",))
    row.errors["executorch 320x320"] = "RuntimeError: Missing out variants"
    text = "\n".join(table("ssdlite", [row], ("eager", "executorch")))
    assert "* `ssdlite_mbv3_small` executorch 320x320: not measured (RuntimeError: Missing out variants)" in text
    cells = [c.strip() for c in next(line for line in text.splitlines() if "| `ssdlite" in line).split("|")]
    assert cells[5] == "–"  # the ExecuTorch column
