"""tools/infer.py: generated images (JPEG, PNG, a folder, a corrupt file) and the sample images matplotlib ships,
with an SSDLite and a segmentation config; overlays, label maps and predictions.json; unreadable inputs counted."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tool_loader import load_tool

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "infer.py"
SSD = str(ROOT / "configs" / "ssdlite_mbv3_small.py")
SEG = str(ROOT / "configs" / "lraspp_mbv3_small_cityscapes.py")
cli = load_tool("infer.py")


@pytest.fixture()
def image_dir(tmp_path: Path) -> Path:
    """a.jpg 96x128, b.png 64x80, sub/c.jpg 72x72 (grayscale), broken.jpg (not an image), notes.txt (ignored)."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "images"
    (folder / "sub").mkdir(parents=True)
    Image.fromarray(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)).save(folder / "a.jpg")
    Image.fromarray(rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)).save(folder / "b.png")
    Image.fromarray(rng.integers(0, 256, (72, 72), dtype=np.uint8)).save(folder / "sub" / "c.jpg")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff this is not a JPEG")
    (folder / "notes.txt").write_text("not an image")
    return folder


def _records(out: Path) -> dict[str, dict]:
    return {Path(r["image"]).name: r for r in json.loads((out / "predictions.json").read_text())}


def test_ssdlite_on_a_folder_with_a_corrupt_file(image_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    rc = cli.main([SSD, "none", str(image_dir), "--out-dir", str(out), "--score-thr", "0", "--batch-size", "2"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "3 images written" in printed and "1 skipped" in printed and "broken.jpg" in printed
    records = _records(out)
    assert sorted(records) == ["a.jpg", "b.png", "c.jpg"]
    for name, (h, w) in {"a.jpg": (96, 128), "b.png": (64, 80), "c.jpg": (72, 72)}.items():
        rec = records[name]
        assert (rec["height"], rec["width"]) == (h, w)
        assert rec["detections"], "score_thr 0 keeps every detection of the random model"
        boxes = np.array([d["box"] for d in rec["detections"]])
        assert (boxes >= 0).all() and (boxes[:, [0, 2]] <= w).all() and (boxes[:, [1, 3]] <= h).all()
        assert all(isinstance(d["class"], str) and d["class"] for d in rec["detections"])
        overlay = Image.open(rec["overlay"])
        assert overlay.size == (w, h)


def test_segmentation_writes_label_maps_at_the_image_size(image_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "seg"
    rc = cli.main([SEG, "none", str(image_dir / "a.jpg"), str(image_dir / "b.png"), "--out-dir", str(out)])
    assert rc == 0
    records = _records(out)
    for name, hw in {"a.jpg": (96, 128), "b.png": (64, 80)}.items():
        rec = records[name]
        label_map = np.asarray(Image.open(rec["label_map"]))
        assert label_map.shape == hw
        assert label_map.max() <= 18
        assert sum(rec["classes"].values()) == pytest.approx(1.0, abs=1e-3)
        assert Image.open(rec["overlay"]).size == (hw[1], hw[0])


def test_only_unreadable_inputs_fail(tmp_path: Path, image_dir: Path, capsys) -> None:
    rc = cli.main([SSD, "none", str(image_dir / "broken.jpg"), str(tmp_path / "missing.png"),
                   "--out-dir", str(tmp_path / "none")])
    assert rc == 1
    assert "0 images written" in capsys.readouterr().out


def _matplotlib_samples() -> Path:
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "sample_data"
    if not (folder / "grace_hopper.jpg").is_file():
        pytest.skip(f"matplotlib {matplotlib.__version__} ships no sample_data/grace_hopper.jpg")
    return folder


def test_matplotlib_sample_images_from_the_command_line(tmp_path: Path) -> None:
    """The whole sample_data folder: its images (a JPEG photo, RGBA / palette PNGs) are found among CSV, NPZ and
    other files, and the script runs standalone."""
    folder = _matplotlib_samples()
    images = sorted(p.name for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    out = tmp_path / "mpl"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), SSD, "none", str(folder), "--out-dir", str(out), "--score-thr", "0.0"],
        capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"), timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    records = _records(out)
    assert sorted(records) == images and "grace_hopper.jpg" in records
    hopper = records["grace_hopper.jpg"]
    w, h = Image.open(folder / "grace_hopper.jpg").size
    assert (hopper["height"], hopper["width"]) == (h, w)
    assert Image.open(hopper["overlay"]).size == (w, h)


def test_checkpoint_of_another_config_is_a_clear_error(image_dir: Path, tmp_path: Path, capsys) -> None:
    import torch

    from densenets.apis import build_model, load_config

    ckpt = tmp_path / "seg.pth"
    torch.save({"state_dict": build_model(load_config(SEG)).state_dict()}, ckpt)
    rc = cli.main([SSD, str(ckpt), str(image_dir), "--out-dir", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2
    assert str(ckpt) in err and "does not match" in err
    assert "missing in checkpoint: " in err and "not in model: decode_head." in err
    assert not (tmp_path / "o").exists()


def test_onnxruntime_backend_writes_the_torch_backends_detections(image_dir: Path, tmp_path: Path, capsys) -> None:
    """``--backend onnxruntime --model m.onnx`` (exported by tools/deploy/export_onnx.py from the same checkpoint)
    gives the same predictions.json as the PyTorch backend; a missing program is one error line, exit 2."""
    import torch

    from densenets.apis import build_model, load_config

    torch.manual_seed(0)
    ckpt, onnx_file = tmp_path / "ssd.pth", tmp_path / "ssd.onnx"
    state = build_model(load_config(SSD)).state_dict()
    for key in [k for k in state if k.startswith("head.cls_preds.") and k.endswith(".bias")]:
        state[key] = torch.zeros_like(state[key])  # scores spread around 0.5 instead of all near the 0.01 prior
    torch.save({"state_dict": state}, ckpt)
    assert load_tool("deploy/export_onnx.py").main([SSD, str(ckpt), "--out", str(onnx_file)]) == 0
    common = [str(image_dir), "--score-thr", "0.3"]
    assert cli.main([SSD, str(ckpt), *common, "--out-dir", str(tmp_path / "torch")]) == 0
    assert cli.main([SSD, "none", *common, "--out-dir", str(tmp_path / "ort"), "--backend", "onnxruntime",
                     "--model", str(onnx_file)]) == 0
    ours, theirs = _records(tmp_path / "torch"), _records(tmp_path / "ort")
    assert sorted(ours) == sorted(theirs) == ["a.jpg", "b.png", "c.jpg"]
    for name in ours:
        a, b = ours[name]["detections"], theirs[name]["detections"]
        assert a, "the random model keeps detections above 0.3"
        assert [d["class"] for d in a] == [d["class"] for d in b]
        np.testing.assert_allclose([d["box"] for d in a], [d["box"] for d in b], atol=2e-2)
        np.testing.assert_allclose([d["score"] for d in a], [d["score"] for d in b], atol=2e-4)
    capsys.readouterr()
    rc = cli.main([SSD, "none", *common, "--out-dir", str(tmp_path / "x"), "--backend", "onnxruntime",
                   "--model", str(tmp_path / "missing.onnx")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[0].startswith("error: ") and "missing.onnx" in err[0]
    assert "Traceback" not in "\n".join(err) and err[1:] == ["(set DENSENETS_DEBUG=1 for the traceback)"]
