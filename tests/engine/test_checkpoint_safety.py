"""mmengine checkpoints load with weights_only=True; anything outside the allow-list is refused."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

from densenets.engine import load_checkpoint
from densenets.engine.checkpoint import SAFE_GLOBALS, PortableHistoryBuffer, sanitize_for_save


class _Payload:
    """Unpickling this runs a shell command (the classic malicious checkpoint)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _Custom:
    def __init__(self) -> None:
        self.value = 3


def _global_name(obj) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def test_runner_checkpoint_needs_only_the_allow_list(tiny_cfg, build_runner):
    tiny_cfg.custom_hooks = [*tiny_cfg.custom_hooks, dict(type="EMAHook", momentum=0.1)]
    build_runner(tiny_cfg).train()
    work = Path(tiny_cfg.work_dir)
    allowed = {_global_name(g) for g in SAFE_GLOBALS}
    files = sorted(work.glob("*.pth"))
    assert len(files) == 2  # iter_8 and the best one
    for path in files:
        needed = set(torch.serialization.get_unsafe_globals_in_checkpoint(str(path)))
        assert "builtins.getattr" not in needed
        assert needed <= allowed, needed - allowed
        state = torch.load(path, weights_only=True)  # the allow-list is active after `import densenets.engine`
        hub = state["message_hub"]
        assert isinstance(hub["log_scalars"]["train/loss"], HistoryBuffer)
        assert hub["runtime_info"]["best_score"] >= 0
    assert {"optimizer", "param_schedulers", "ema_state_dict"} <= set(load_checkpoint(work / "iter_8.pth"))


def test_stock_history_buffer_needs_getattr_and_portable_one_does_not(tmp_path):
    buf = HistoryBuffer()
    buf.update(1.0)
    buf.update(3.0)
    torch.save({"message_hub": {"log_scalars": {"loss": buf}}}, tmp_path / "stock.pth")
    assert "builtins.getattr" in torch.serialization.get_unsafe_globals_in_checkpoint(str(tmp_path / "stock.pth"))
    with pytest.raises(RuntimeError, match="stock.pth"):
        load_checkpoint(tmp_path / "stock.pth")

    ckpt = sanitize_for_save({"message_hub": {"log_scalars": {"loss": buf}}})
    torch.save(ckpt, tmp_path / "portable.pth")
    back = load_checkpoint(tmp_path / "portable.pth")["message_hub"]["log_scalars"]["loss"]
    assert isinstance(back, PortableHistoryBuffer)
    assert back.mean() == 2.0 and back.current() == 3.0 and back.statistics("max") == 3.0


def test_amp_scaler_and_numpy_values_load(tmp_path):
    scaler = torch.amp.GradScaler("cpu")
    p = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.SGD([p], lr=0.1)
    scaler.scale(p.sum()).backward()
    scaler.step(opt)
    scaler.update()
    ckpt = {"optimizer": {"state": opt.state_dict(), "loss_scaler": scaler.state_dict()},
            "message_hub": {"runtime_info": {"best_score": np.float64(0.25), "eta": np.float32(1.5)}},
            "arr": np.arange(4, dtype=np.int64)}
    torch.save(ckpt, tmp_path / "amp.pth")
    back = load_checkpoint(tmp_path / "amp.pth")
    restored = torch.amp.GradScaler("cpu")
    restored.load_state_dict(back["optimizer"]["loss_scaler"])
    assert restored.state_dict() == scaler.state_dict()
    assert back["message_hub"]["runtime_info"]["best_score"] == 0.25
    np.testing.assert_array_equal(back["arr"], np.arange(4))


def test_malicious_checkpoint_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"state_dict": {}, "meta": _Payload(marker)}, tmp_path / "evil.pth")
    with pytest.raises(Exception):
        torch.load(tmp_path / "evil.pth", weights_only=True)
    with pytest.raises(RuntimeError, match=r"evil\.pth.*posix\.system|evil\.pth.*system"):
        load_checkpoint(tmp_path / "evil.pth")
    assert not marker.exists()


def test_custom_class_is_refused(tmp_path):
    torch.save({"meta": _Custom()}, tmp_path / "custom.pth")
    with pytest.raises(RuntimeError, match=r"custom\.pth.*_Custom"):
        load_checkpoint(tmp_path / "custom.pth")


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        load_checkpoint(tmp_path / "nope.pth")


def test_load_checkpoint_keeps_the_process_wide_allow_list(tmp_path):
    torch.save({"x": np.float64(1.0)}, tmp_path / "a.pth")
    load_checkpoint(tmp_path / "a.pth")
    assert set(SAFE_GLOBALS) <= set(torch.serialization.get_safe_globals())
    torch.load(tmp_path / "a.pth", weights_only=True)  # what mmengine's resume calls


def test_mmengine_local_loading_goes_through_the_safe_loader(tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint

    torch.save({"state_dict": {"w": torch.ones(2)}, "meta": {"eta": np.float64(3.0)}}, tmp_path / "ok.pth")
    assert _load_checkpoint(str(tmp_path / "ok.pth"))["meta"]["eta"] == 3.0
    (tmp_path / "cut.pth").write_bytes((tmp_path / "ok.pth").read_bytes()[:200])  # a truncated download
    with pytest.raises(RuntimeError, match=r"cut\.pth"):
        _load_checkpoint(str(tmp_path / "cut.pth"))
    torch.save({"meta": _Custom()}, tmp_path / "custom.pth")
    with pytest.raises(RuntimeError, match=r"custom\.pth.*_Custom"):
        _load_checkpoint(str(tmp_path / "custom.pth"))
