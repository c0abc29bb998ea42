"""The timing helper, torchvision peers, paper figures, tools/analysis/benchmark.py (latency: --json,
--compare-torchvision, --onnxruntime, --fused; the train / variants / data / eval modes) and the model zoo
(tools/analysis/complexity.py --table zoo) on one config — all on tiny inputs with few runs."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from densenets.analysis.bench_inputs import eval_image_shape
from densenets.analysis.paper_figures import ALL, paper_figures
from densenets.analysis.peers import PEERS, find_peer
from densenets.analysis.timing import summarise, time_fn, time_interleaved, time_interleaved_cpu
from densenets.apis import load_config
from tool_loader import load_tool

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"


benchmark = load_tool("analysis/benchmark.py")
complexity = load_tool("analysis/complexity.py")


def _json_last_line(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


# -- timing -------------------------------------------------------------------------------------------------------
def test_summarise_statistics() -> None:
    t = summarise([0.5, 0.1, 0.4, 0.2, 0.3])
    assert (t.median, t.p25, t.p75, t.min, t.runs) == (0.3, 0.2, 0.4, 0.1, 5)
    assert t.iqr == pytest.approx(0.2)
    assert t.as_ms() == {"median": 300.0, "p25": 200.0, "p75": 400.0, "min": 100.0, "runs": 5}


def test_time_fn_counts_warmup_and_runs_and_measures_time() -> None:
    calls = []
    t = time_fn(lambda: (calls.append(1), time.sleep(0.01)), runs=3, warmup=2)
    assert len(calls) == 5 and t.runs == 3
    assert 0.009 < t.min <= t.median < 0.5


def test_time_fn_stops_after_max_seconds() -> None:
    t = time_fn(lambda: time.sleep(0.02), runs=100, warmup=0, max_seconds=0.03)
    assert t.runs == 2
    with pytest.raises(ValueError, match="runs must be >= 1"):
        time_fn(lambda: None, runs=0)


def test_time_interleaved_alternates_the_candidates() -> None:
    order: list[str] = []
    fns = {"fast": lambda: order.append("fast"), "slow": lambda: (order.append("slow"), time.sleep(0.01))}
    t = time_interleaved(fns, runs=3, warmup=1)
    assert order == ["fast", "slow"] * 4
    assert t["fast"].runs == t["slow"].runs == 3
    assert t["fast"].median < 0.005 < t["slow"].min


def test_time_interleaved_shuffles_and_measures_cpu_time() -> None:
    order: list[str] = []
    busy = lambda: sum(range(200_000))  # noqa: E731
    fns = {name: (lambda name=name: (order.append(name), busy())) for name in "abc"}
    t = time_interleaved_cpu(fns, runs=6, warmup=0, order_seed=1)
    rounds = [order[i:i + 3] for i in range(0, 18, 3)]
    assert all(sorted(r) == ["a", "b", "c"] for r in rounds) and len({tuple(r) for r in rounds}) > 1
    wall, cpu = t["a"]
    assert wall.runs == cpu.runs == 6 and 0 < cpu.min and cpu.median <= wall.median * 1.5


# -- peers and paper figures --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "config, expected",
    [
        ("ssdlite_mbv3_large", "ssdlite320_mobilenet_v3_large"),
        ("ssdlite_mbv3_large_full", None),  # torchvision builds the reduced tail without pretrained weights
        ("ssdlite_mbv2", None),
        ("faster_rcnn_mbv3_large_fpn", "fasterrcnn_mobilenet_v3_large_fpn"),
        ("faster_rcnn_mbv3_large_320_fpn", "fasterrcnn_mobilenet_v3_large_320_fpn"),
        ("faster_rcnn_mobilenet_v1_600", None),
        ("lraspp_mbv3_large_cityscapes", "lraspp_mobilenet_v3_large"),
        ("lraspp_mbv3_large_os32_cityscapes", None),
        ("lraspp_mbv3_small_cityscapes", None),
    ],
)
def test_peer_lookup(config: str, expected: str | None) -> None:
    peer = find_peer(load_config(str(CONFIGS / f"{config}.py")))
    assert (peer.name.split()[1].split("(")[0] if peer else None) == expected


def test_every_peer_is_reachable_from_a_config() -> None:
    found = {find_peer(load_config(str(p))) for p in CONFIGS.glob("*.py")}
    assert set(PEERS.values()) <= found


def test_paper_figures_name_existing_configs() -> None:
    assert set(ALL) <= {p.stem for p in CONFIGS.glob("*.py")}
    t6 = paper_figures("configs/ssdlite_mbv3_large.py")
    assert (t6.metric, t6.latency_ms, t6.params_m, t6.madds_b) == (22.0, 119, 3.22, 0.51)
    t7 = paper_figures("lraspp_mbv3_large_cityscapes")
    assert (t7.metric, t7.madds_b, t7.latency_ms, t7.latency_half_ms) == (72.36, 9.74, 2470, 657)
    assert paper_figures("ssdlite_shufflenet_v2_x1") is None


def test_eval_image_shape_follows_the_test_resize() -> None:
    shape = lambda name: eval_image_shape(load_config(str(CONFIGS / f"{name}.py")))  # noqa: E731
    assert shape("ssdlite_mbv3_large") == (320, 320)
    assert shape("faster_rcnn_mobilenet_v1_600") == (600, 800)  # a 480x640 photo, shorter side 600
    assert shape("faster_rcnn_mbv3_large_320_fpn") == (320, 427)
    assert shape("lraspp_mbv3_large_cityscapes") == (1024, 2048)  # full-resolution evaluation


# -- benchmark.py -------------------------------------------------------------------------------------------------
def test_benchmark_json_on_a_tiny_run(capsys) -> None:
    rc = benchmark.main([str(CONFIGS / "ssdlite_mbv3_small.py"), "--shape", "64", "64", "--runs", "2",
                         "--warmup", "1", "--json"])
    assert rc == 0
    out = capsys.readouterr().out
    r = _json_last_line(out)
    assert r["shape"] == [64, 64] and r["task"] == "ssdlite" and r["threads"] == 1
    for key in ("model_only", "end_to_end"):
        t = r[key]
        assert t["runs"] == 2 and 0 < t["min"] <= t["median"] and t["p25"] <= t["median"] <= t["p75"]
    assert "ours model only" in out and "ours end to end" in out


def test_benchmark_compares_with_torchvision_and_onnxruntime(capsys) -> None:
    rc = benchmark.main([str(CONFIGS / "ssdlite_mbv3_large.py"), "--shape", "64", "64", "--runs", "2",
                         "--warmup", "1", "--compare-torchvision", "--onnxruntime", "--fused", "--json"])
    assert rc == 0
    out = capsys.readouterr().out
    r = _json_last_line(out)
    tv = r["torchvision"]
    assert tv["name"] == "torchvision ssdlite320_mobilenet_v3_large" and tv["params"] == 3_440_060
    assert tv["ratio_model_only"] == pytest.approx(r["model_only"]["median"] / tv["model_only"]["median"], rel=1e-3)
    assert tv["ratio_end_to_end"] == pytest.approx(r["end_to_end"]["median"] / tv["end_to_end"]["median"], rel=1e-3)
    assert f"ratio ours/torchvision {tv['ratio_model_only']:.3f}" in out
    assert r["fused"] and r["channels_last"]
    assert r["onnxruntime"]["runs"] == 2 and r["onnxruntime"]["median"] > 0
    assert r["post_processing"]["runs"] == 2 and tv["post_processing"]["runs"] == 2
    assert tv["ratio_post_processing"] == pytest.approx(
        r["post_processing"]["median"] / tv["post_processing"]["median"], rel=1e-3)


def test_post_processing_runners_return_what_predict_returns() -> None:
    """The timed post-processing alone is the real thing: ours gives ``mode='predict'``'s detections, torchvision's
    gives its ``model([image])``'s."""
    import torch

    from densenets.analysis.bench_inputs import model_runners, post_processing_runner
    from densenets.analysis.peers import PeerRunner, find_peer
    from densenets.apis import build_model, load_config

    cfg = load_config(str(CONFIGS / "ssdlite_mbv3_large.py"))
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    with torch.inference_mode():
        ours = post_processing_runner(model, (96, 96))()
        _, end_to_end = model_runners(model, (96, 96))
        ref = end_to_end()
        for a, b in zip(ours, ref):
            for key in ("pred_boxes", "pred_scores", "pred_labels"):
                assert torch.equal(a[key], b[key])
        runner = PeerRunner(find_peer(cfg), (96, 96))
        tv = runner.post_processing()()
        tv_ref = runner.end_to_end()
        assert torch.equal(tv[0]["boxes"], tv_ref[0]["boxes"]) and torch.equal(tv[0]["labels"], tv_ref[0]["labels"])
    seg = build_model(load_config(str(CONFIGS / "lraspp_mbv3_large_cityscapes.py")))
    assert post_processing_runner(seg, (64, 64)) is None


def test_benchmark_without_a_peer_says_so(capsys) -> None:
    benchmark.main([str(CONFIGS / "lraspp_mbv3_small_cityscapes.py"), "--shape", "32", "64", "--runs", "1",
                    "--warmup", "0", "--compare-torchvision", "--json"])
    out = capsys.readouterr().out
    assert "no counterpart" in out and _json_last_line(out)["torchvision"] is None


def test_benchmark_rejects_amp_on_cpu(capsys) -> None:
    with pytest.raises(SystemExit):
        benchmark.main([str(CONFIGS / "ssdlite_mbv3_small.py"), "--amp"])
    assert "--amp needs --device cuda" in capsys.readouterr().err


# -- the other modes of benchmark.py -------------------------------------------------------------------------
def test_train_mode_times_ours_in_both_forms_against_torchvision(capsys) -> None:
    rc = benchmark.main([str(CONFIGS / "ssdlite_mbv3_large.py"), "--mode", "train", "--batch", "2", "--runs", "1",
                         "--warmup", "0", "--json"])
    assert rc == 0
    out = capsys.readouterr().out
    r = _json_last_line(out)
    assert set(r["timings"]) == {"torchvision", "rf2", "tv_form"} and r["batch"] == 2
    assert "ours RF2 (TF form)" in out and "ratio" in out


def test_train_mode_refuses_a_model_without_a_peer(capsys) -> None:
    assert benchmark.main([str(CONFIGS / "lraspp_mbv3_small_cityscapes.py"), "--mode", "train", "--runs", "1"]) == 2
    assert "SSDLite configs only" in capsys.readouterr().err


def test_variants_mode_faster_rcnn_shares_weights_and_agrees_on_detections(capsys) -> None:
    rc = benchmark.main([str(CONFIGS / "faster_rcnn_mbv3_large_320_fpn.py"), "--mode", "variants", "--shape", "64",
                         "96", "--runs", "1", "--warmup", "0", "--json"])
    assert rc == 0
    r = _json_last_line(capsys.readouterr().out)
    assert r["shape"] == [64, 96] and r["detections"]["ours"] == r["detections"]["torchvision"] > 0


def test_variants_mode_lraspp_times_wall_and_cpu(capsys) -> None:
    rc = benchmark.main([str(CONFIGS / "lraspp_mbv3_large_cityscapes.py"), "--mode", "variants", "--sizes", "32x64",
                         "--runs", "1", "--warmup", "0", "--json"])
    assert rc == 0
    rows = _json_last_line(capsys.readouterr().out)["sizes"]["32x64"]
    assert set(rows) == {"ours", "ours_tv_form", "tv_rf2", "tv"}
    assert rows["ours_tv_form"]["params"] == rows["tv_rf2"]["params"]  # torchvision's exact form
    assert all(row["cpu"]["runs"] == 1 and row["wall"]["median"] > 0 for row in rows.values())


def test_variants_mode_needs_a_config(capsys) -> None:
    with pytest.raises(SystemExit):
        benchmark.main(["--mode", "variants"])
    assert "needs a CONFIG" in capsys.readouterr().err


def test_data_mode_on_a_generated_set(capsys, tmp_path: Path) -> None:
    rc = benchmark.main(["--mode", "data", "--data", str(tmp_path / "absent"), "--num-images", "2", "--runs", "1",
                         "--json"])
    assert rc == 0
    out = capsys.readouterr().out
    r = _json_last_line(out)
    assert r["data_root"] == "(generated demo set)" and r["images_per_s"]["densenets"] > 0
    assert r["images_per_cpu_s"]["torchvision"] > 0 and "ratio densenets / torchvision" in out


def test_eval_cityscapes_mode_reports_agreeing_scores(capsys) -> None:
    rc = benchmark.main(["--mode", "eval-cityscapes", "--num-images", "1", "--workers", "1", "--runs", "1",
                         "--few-instances"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "official" in out and "ours, 1 worker(s)" in out and "CPU time ratio" in out
    assert "scores agree to 1e-6" in out  # the benchmark raises before printing this when they do not


def test_eval_coco_mode_asserts_the_same_figures(capsys) -> None:
    rc = benchmark.main(["--mode", "eval-coco", "--num-images", "20", "--runs", "1", "--json"])
    assert rc == 0
    out = capsys.readouterr().out
    r = _json_last_line(out)
    assert r["detections"] == 20 * 100 and set(r["seconds"]) == {"pycocotools", "faster_coco_eval"}
    assert 0.05 < r["figures"]["bbox_mAP"] < 0.95  # the synthetic detections are neither perfect nor useless
    assert "figures equal (1e-9)" in out


def test_coco_backends_disagreeing_is_an_error(monkeypatch) -> None:
    from densenets.analysis import eval_speed
    from densenets.evaluation.coco_metric import CocoMetric

    real = CocoMetric.compute_metrics

    def shifted(self, results):
        figures = real(self, results)
        return {k: v + 0.01 for k, v in figures.items()} if self.backend == "faster_coco_eval" else figures

    monkeypatch.setattr(CocoMetric, "compute_metrics", shifted)
    with pytest.raises(AssertionError, match="faster_coco_eval: bbox_mAP"):
        eval_speed.coco_eval_benchmark(5, 1)


# -- the model zoo ------------------------------------------------------------------------------------------------
def test_model_zoo_on_one_config(tmp_path: Path) -> None:
    md, png = tmp_path / "zoo.md", tmp_path / "zoo.png"
    rc = complexity.main(["--table", "zoo", "--configs", "ssdlite_mbv3_small", "--runs", "1", "--warmup", "0",
                          "--out", str(md), "--plot", str(png)])
    assert rc == 0
    text = md.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| `ssdlite_mbv3_small`"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "1.78" and cells[2] == "0.162"  # 90 classes at 320x320 (Table 6 counts 1.77M, 0.16B)
    assert cells[3].endswith("n=1)") and cells[4:] == ["16.1", "43 ms", "1.77", "0.16"]
    assert "--configs ssdlite_mbv3_small" in text  # the command that made it
    with Image.open(png) as img:
        assert img.format == "PNG" and img.size[0] > 500


def test_model_zoo_backends_fill_their_columns_and_leave_no_exports(tmp_path: Path) -> None:
    """``--backends eager onnxruntime`` on one config named by a pattern: two latency columns, the programs removed."""
    md, exports = tmp_path / "zoo.md", tmp_path / "exports"
    rc = complexity.main(["--table", "zoo", "--configs", "ssdlite_mbv3_sm?ll", "--runs", "2", "--warmup", "0",
                          "--backends", "eager", "onnxruntime", "--export-dir", str(exports), "--out", str(md)])
    assert rc == 0
    lines = md.read_text().splitlines()
    header = next(line for line in lines if line.startswith("| config | params (M)"))
    assert "| PyTorch eager | onnxruntime | paper mAP |" in header
    row = next(line for line in lines if line.startswith("| `ssdlite_mbv3_small`"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[3].endswith("n=2)") and cells[4].endswith("n=2)") and cells[5] == "16.1"
    assert not any(line.startswith("| `ssdlite_mbv3_small_full`") for line in lines)  # the pattern matched one
    assert exports.is_dir() and not any(exports.iterdir())


def test_model_zoo_rows_file_runs_the_zoo_in_parts(tmp_path: Path, monkeypatch, capsys) -> None:
    """``--rows``: a second run reuses the configs the first measured (same settings) and measures only the rest;
    other settings or a damaged file are errors naming the file."""
    from densenets.analysis import model_zoo

    rows, md1, md2 = tmp_path / "rows.json", tmp_path / "a.md", tmp_path / "b.md"
    common = ["--table", "zoo", "--warmup", "0", "--rows", str(rows)]
    assert complexity.main([*common, "--runs", "1", "--configs", "ssdlite_mbv3_small", "--out", str(md1)]) == 0
    measured: list[str] = []
    real = model_zoo.measure
    monkeypatch.setattr(model_zoo, "measure", lambda task, path, *a: measured.append(path.stem) or real(task, path, *a))
    assert complexity.main([*common, "--runs", "1", "--configs", "ssdlite_mbv3_small*", "--out", str(md2)]) == 0
    assert measured == ["ssdlite_mbv3_small_full"]
    first, second = ([line for line in md.read_text().splitlines() if line.startswith("| `ssdlite_mbv3_small`")]
                     for md in (md1, md2))
    assert first == second  # the same figures, not a second measurement
    assert "1 of the 2 configs measured by earlier runs" in md2.read_text()
    assert complexity.main([*common, "--runs", "2", "--configs", "ssdlite_mbv3_small", "--out", str(md2)]) == 2
    assert f"{rows} holds rows measured with other settings (runs 1 there, 2 now)" in capsys.readouterr().err
    rows.write_text("{\"rows\": []}")
    assert complexity.main([*common, "--runs", "1", "--configs", "ssdlite_mbv3_small", "--out", str(md2)]) == 2
    assert f"{rows}: not a rows file of this tool" in capsys.readouterr().err


def test_model_zoo_unknown_backend_is_an_error(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        complexity.main(["--table", "zoo", "--backends", "tflite", "--out", str(tmp_path / "z.md")])
    assert "invalid choice: 'tflite'" in capsys.readouterr().err


def test_model_zoo_unknown_config_is_an_error(tmp_path: Path, capsys) -> None:
    assert complexity.main(["--table", "zoo", "--configs", "nonsense", "--no-latency",
                            "--out", str(tmp_path / "z.md")]) == 2
    assert "no config named nonsense" in capsys.readouterr().err
