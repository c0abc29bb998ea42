"""``tools/test.py CONFIG --backend onnxruntime|executorch --model FILE`` from the command line: the program exported
from a checkpoint (by tools/deploy/export_onnx.py / export_executorch.py) is evaluated on the config's own dataset
with the config's metric, and its predictions are the PyTorch backend's on that checkpoint.

Reference: ``tools/test.py CONFIG CHECKPOINT`` (the PyTorch model) on the same files; the data are the Cityscapes
layout written by ``tools/make_demo_data.py cityscapes`` (real ``*_gtFine_labelIds.png`` files, the official metric).
"""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from densenets.datasets.demo.cityscapes_demo import make_cityscapes_demo
from tool_loader import load_tool

CONFIG = "configs/demo/lraspp_mbv3_large_demo.py"
HW = (256, 512)  # the demo images' size: the test pipeline keeps it, so the programs are exported at it
test_tool = load_tool("test.py")


@pytest.fixture(scope="module")
def setup(tmp_path_factory, make_realistic_model):
    root = tmp_path_factory.mktemp("test_backend")
    data = root / "data"
    make_cityscapes_demo(str(data), num_train=1, num_val=3, seed=5, size=HW, with_color=False)
    ckpt = root / "seg.pth"
    torch.save({"state_dict": make_realistic_model(CONFIG, HW).state_dict()}, ckpt)
    options = ["--cfg-options", f"test_dataloader.dataset.data_root={data}", "test_dataloader.num_workers=0",
               "test_dataloader.persistent_workers=False"]
    torch_out = _evaluate(root / "torch", [CONFIG, str(ckpt)], options)
    return root, ckpt, options, torch_out


def _evaluate(work: Path, args: list[str], options: list[str]) -> tuple[list[np.ndarray], dict]:
    """Run tools/test.py; returns the dumped label maps (``--out``) and the metrics it logged."""
    out = work / "preds.pkl"
    assert test_tool.main([*args, "--work-dir", str(work), "--out", str(out), *options]) == 0
    with open(out, "rb") as f:
        maps = [np.asarray(p["pred_sem_seg"]) for p in pickle.load(f)]
    logs = sorted(work.glob("*/*.json"))  # mmengine's LoggerHook dumps the test metrics to <timestamp>/<timestamp>.json
    assert logs, f"no metrics json under {work}"
    metrics = json.loads(logs[-1].read_text())
    return maps, metrics


def _assert_same_evaluation(ours: tuple, reference: tuple) -> None:
    maps, metrics = ours
    ref_maps, ref_metrics = reference
    assert len(maps) == len(ref_maps) == 3
    agree = np.mean([np.mean(a == b) for a, b in zip(maps, ref_maps)])
    assert agree > 0.999, f"label maps agree on {agree:.4%} of the pixels"
    assert len({int(v) for m in ref_maps for v in np.unique(m)}) > 3, "the reference predicts several classes"
    keys = [k for k in ref_metrics if "mIoU" in k]
    assert keys, ref_metrics
    for k in keys:
        assert abs(metrics[k] - ref_metrics[k]) < 0.5, (k, metrics[k], ref_metrics[k])


@pytest.mark.parametrize("backend, exporter, suffix", [("onnxruntime", "deploy/export_onnx.py", ".onnx"),
                                                       ("executorch", "deploy/export_executorch.py", ".pte")])
def test_an_exported_program_evaluates_like_the_checkpoint(setup, backend, exporter, suffix):
    if backend == "executorch":
        pytest.importorskip("executorch", reason="the mobile extra (pip install -e .[mobile]) is not installed")
    root, ckpt, options, reference = setup
    program = root / f"seg{suffix}"
    assert load_tool(exporter).main([CONFIG, str(ckpt), "--out", str(program), "--shape", *map(str, HW)]) == 0
    ours = _evaluate(root / backend, [CONFIG, "--backend", backend, "--model", str(program)], options)
    _assert_same_evaluation(ours, reference)


def test_a_program_of_another_input_size_is_a_clear_error(setup, capsys):
    """The program's fixed input size against the dataset's images: one error line naming both, no traceback."""
    root, ckpt, options, _ = setup
    small = root / "small.onnx"
    export = load_tool("deploy/export_onnx.py")
    assert export.main([CONFIG, str(ckpt), "--out", str(small), "--shape", "128", "256"]) == 0
    capsys.readouterr()
    rc = test_tool.main([CONFIG, "--backend", "onnxruntime", "--model", str(small), "--work-dir",
                         str(root / "bad"), *options])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err, err[-3000:]
    assert "small.onnx" in err and "128x256" in err and "256x512" in err, err[-3000:]


def test_qat_train_export_and_evaluate_from_the_command_line(setup, capsys):
    """``tools/train.py`` on a ``qat = dict(...)`` config from a float checkpoint, ``export_executorch.py --quantize
    int8`` of its checkpoint (its trained quantization parameters: no calibration images), ``tools/test.py`` on the
    checkpoint (the fake-quantized graph) and on the program: the int8 program follows the graph it was converted
    from (XNNPACK's int8 kernels round differently from the simulation, so most pixels, not all)."""
    pytest.importorskip("executorch", reason="the mobile extra (pip install -e .[mobile]) is not installed")
    root, ckpt, options, (float_maps, _) = setup
    qat_config = "configs/demo/lraspp_mbv3_large_qat.py"
    work = root / "qat"
    data = options[1].split("=", 1)[1]
    train = load_tool("train.py")
    assert train.main([qat_config, "--work-dir", str(work), "--load-from", str(ckpt), "--cfg-options",
                       f"train_dataloader.dataset.data_root={data}", "train_dataloader.batch_size=1",
                       "train_dataloader.num_workers=0", "train_dataloader.persistent_workers=False",
                       f"val_dataloader.dataset.data_root={data}", "val_dataloader.num_workers=0",
                       "val_dataloader.persistent_workers=False",
                       "train_cfg.max_iters=2", "train_cfg.val_interval=100", "train_cfg.val_begin=100",
                       "default_hooks.checkpoint.interval=2",
                       "param_scheduler.0.end=2"]) == 0
    qat_ckpt = work / "iter_2.pth"
    assert qat_ckpt.is_file()
    graph = _evaluate(root / "qat_graph", [qat_config, str(qat_ckpt)], options)
    pte = root / "qat.pte"
    assert load_tool("deploy/export_executorch.py").main([qat_config, str(qat_ckpt), "--out", str(pte),
                                                          "--quantize", "int8"]) == 0
    assert json.loads(pte.with_suffix(".json").read_text())["quantization"]["mode"] == "int8 QAT"
    # the QAT checkpoint with the float config (no qat field): refused by the exporter and by tools/test.py
    for tool, extra in (("deploy/export_executorch.py", ["--out", str(root / "x.pte"), "--quantize", "int8"]),
                        ("test.py", ["--work-dir", str(root / "bad_qat"), *options])):
        capsys.readouterr()
        rc = load_tool(tool).main([CONFIG, str(qat_ckpt), *extra])
        err = capsys.readouterr().err
        assert rc == 2 and "Traceback" not in err, (tool, err[-2000:])
        assert "has no qat field" in err and "iter_2.pth" in err and "lraspp_mbv3_large_demo.py" in err, (tool, err)
    program = _evaluate(root / "qat_et", [qat_config, "--backend", "executorch", "--model", str(pte)], options)
    agree = np.mean([np.mean(a == b) for a, b in zip(program[0], graph[0])])
    # random (BN-calibrated) weights leave small margins between the 19 logits, so rounding flips more pixels than
    # on the trained demo (there: 72.46 vs 72.38 mIoU, README "On device")
    assert agree > 0.75, f"the int8 program and the fake-quantized graph agree on {agree:.2%} of the pixels"
    assert any(not np.array_equal(a, b) for a, b in zip(graph[0], float_maps)), "the QAT graph is the float model"
