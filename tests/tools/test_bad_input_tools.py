"""Every tool: an expected error is one message and exit status 2, no traceback (DENSENETS_DEBUG=1 brings it back),
train / test / infer / eval_cityscapes / analysis/benchmark / analysis/complexity alike;
checkpoints of another model are refused by tools/test.py, tools/train.py --load-from/--resume and tools/infer.py;
infer.py writes one output per input, also for equal file names in different folders, and counts broken symlinks."""
from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from tool_loader import load_tool

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "tests/engine/tiny_config.py")
SSD = str(ROOT / "configs/ssdlite_mbv3_small.py")
sys.path.insert(0, str(ROOT / "tests/engine"))


train, test, infer = load_tool("train.py"), load_tool("test.py"), load_tool("infer.py")
eval_cityscapes = load_tool("eval_cityscapes.py")
benchmark, complexity = load_tool("analysis/benchmark.py"), load_tool("analysis/complexity.py")


_runs = itertools.count()


def _data_options(tmp_path: Path) -> list[str]:
    # a fresh experiment name per in-process run: mmengine keeps loggers by name (the default has 1 s resolution)
    return ["--cfg-options", f"experiment_name=bad_input_{os.getpid()}_{next(_runs)}",
            *[f"{k}.dataset.data_root={tmp_path / 'data'}"
              for k in ("train_dataloader", "val_dataloader", "test_dataloader")]]


@pytest.fixture
def other_model_ckpt(tmp_path: Path) -> str:
    """A checkpoint of another model: the tiny segmentor at width 4 (the config builds width 8)."""
    from engine_tiny_task import EngineTinySeg
    from mmengine.registry import DefaultScope

    with DefaultScope.overwrite_default_scope("densenets"):
        state = EngineTinySeg(width=4).state_dict()
    path = tmp_path / "width4.pth"
    torch.save({"state_dict": state, "meta": {"epoch": 0, "iter": 4}, "message_hub": {}}, path)
    return str(path)


def _one_error(capsys, *needles: str) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_test_py_refuses_a_checkpoint_of_another_model(tmp_path, other_model_ckpt, capsys) -> None:
    rc = test.main([TINY, other_model_ckpt, "--work-dir", str(tmp_path / "w"), *_data_options(tmp_path)])
    assert rc == 2
    _one_error(capsys, other_model_ckpt, "does not match", "body.0.weight (8, 3, 3, 3) vs checkpoint (4, 3, 3, 3)")


def test_train_py_load_from_and_resume_refuse_it_naming_the_file(tmp_path, other_model_ckpt, capsys) -> None:
    for flag in ("--load-from", "--resume"):
        rc = train.main([TINY, flag, other_model_ckpt, "--work-dir", str(tmp_path / flag), *_data_options(tmp_path)])
        assert rc == 2, flag
        _one_error(capsys, other_model_ckpt, "does not match")


def test_train_py_partial_load_flags(tmp_path, capsys) -> None:
    from engine_tiny_task import EngineTinySeg
    from mmengine.registry import DefaultScope

    with DefaultScope.overwrite_default_scope("densenets"):
        state = EngineTinySeg(num_classes=5).state_dict()
    ckpt = tmp_path / "five.pth"
    torch.save({"state_dict": state}, ckpt)
    def rest() -> list[str]:
        return ["--work-dir", str(tmp_path / "w"), *_data_options(tmp_path), "train_cfg.max_iters=1",
                "train_cfg.val_interval=100"]

    assert train.main([TINY, "--load-from", str(ckpt), *rest()]) == 2
    _one_error(capsys, "cls.weight (3, 8, 1, 1) vs checkpoint (5, 8, 1, 1)", "--load-skip")
    assert train.main([TINY, "--load-from", str(ckpt), "--load-skip", "cls.", *rest()]) == 0
    assert train.main([TINY, "--load-skip", "cls.", *rest()]) == 2
    _one_error(capsys, "--load-from")


def test_misspelt_keys_are_refused_before_training(tmp_path, capsys) -> None:
    base = [TINY, "--work-dir", str(tmp_path / "w"), *_data_options(tmp_path)]
    assert train.main([*base, "trian_cfg.max_iters=4"]) == 2
    _one_error(capsys, "trian_cfg", "did you mean 'train_cfg'")
    assert train.main([*base, "default_hooks.checkpoint.intervl=1"]) == 2
    _one_error(capsys, "intervl", "did you mean 'interval'")
    assert not (tmp_path / "w").exists() or not list((tmp_path / "w").rglob("*.pth"))


def test_missing_config_unwritable_work_dir_and_debug_traceback(tmp_path, capsys, monkeypatch) -> None:
    assert train.main([str(tmp_path / "nope.py")]) == 2
    _one_error(capsys, "nope.py: no such file")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert train.main([TINY, "--work-dir", str(blocker / "w")]) == 2
    _one_error(capsys, f"work dir {blocker / 'w'}: cannot be created")
    monkeypatch.setenv("DENSENETS_DEBUG", "1")
    with pytest.raises(FileNotFoundError):
        train.main([str(tmp_path / "nope.py")])


def test_train_without_coco_is_one_message_in_a_real_process(tmp_path) -> None:
    """The issue's case: tools/train.py on a COCO config without data/coco (the cwd has none)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    env.pop("DENSENETS_DEBUG", None)
    proc = subprocess.run([sys.executable, str(ROOT / "tools/train.py"), SSD], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert "error: " in proc.stderr and "COCO data folder not found: data/coco" in proc.stderr
    assert "cocodataset.org" in proc.stderr


def test_infer_unreadable_checkpoint_is_one_message(tmp_path, capsys) -> None:
    bad = tmp_path / "cut.pth"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    img = tmp_path / "x.jpg"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(img)
    assert infer.main([SSD, str(bad), str(img), "--out-dir", str(tmp_path / "o")]) == 2
    _one_error(capsys, str(bad), "unreadable")
    assert infer.main([SSD, str(tmp_path / "missing.pth"), str(img), "--out-dir", str(tmp_path / "o")]) == 2
    _one_error(capsys, "missing.pth: no such file")


def test_infer_keeps_relative_paths_and_counts_broken_symlinks(tmp_path, capsys) -> None:
    rng = np.random.default_rng(0)
    for sub in ("a", "b"):
        (tmp_path / "in" / sub).mkdir(parents=True)
        Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(tmp_path / "in" / sub / "img.jpg")
    Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(tmp_path / "in" / "a" / "img.png")
    (tmp_path / "in" / "b" / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    out = tmp_path / "out"
    rc = infer.main([SSD, "none", str(tmp_path / "in"), "--out-dir", str(out), "--score-thr", "0.5"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "3 images written" in printed and "1 skipped" in printed and "gone.jpg" in printed
    records = json.loads((out / "predictions.json").read_text())
    overlays = sorted(str(Path(r["overlay"]).relative_to(out)) for r in records)
    assert overlays == ["a/img_jpg_overlay.jpg", "a/img_png_overlay.jpg", "b/img_overlay.jpg"]
    assert all(Path(r["overlay"]).is_file() for r in records)


def test_output_names_are_unique() -> None:
    from densenets.apis.inferencer import output_names

    assert output_names(["x/a/i.jpg", "x/b/i.jpg"]) == ["a/i", "b/i"]
    assert output_names(["i.jpg"]) == ["i"]
    assert output_names(["d/i.jpg", "d/i.png", "d/i.jpg", None]) == ["i_jpg", "i_png", "i_jpg_2", "image_00003"]


def test_eval_cityscapes_and_the_analysis_tools_report_expected_errors_in_one_line(tmp_path, capsys,
                                                                                    monkeypatch) -> None:
    missing = tmp_path / "no_gt"
    (tmp_path / "preds").mkdir()
    assert eval_cityscapes.main([str(tmp_path / "preds"), "--gt-dir", str(missing)]) == 2
    _one_error(capsys, str(missing))
    assert benchmark.main([str(tmp_path / "nope.py"), "--runs", "1"]) == 2
    _one_error(capsys, "nope.py")
    assert complexity.main([str(tmp_path / "nope.py")]) == 2
    _one_error(capsys, "config file not found", "nope.py")
    monkeypatch.setenv("DENSENETS_DEBUG", "1")
    with pytest.raises(ValueError):
        eval_cityscapes.main([str(tmp_path / "preds"), "--gt-dir", str(missing)])
