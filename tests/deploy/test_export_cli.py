"""tools/deploy/export_onnx.py as a command: a matching checkpoint exports and passes the parity check; a checkpoint
of another config is refused with the first mismatching keys named and nothing written. Both exporters
(densenets/apis/export_cli.py) report an expected error in one line with exit status 2."""
from __future__ import annotations

from pathlib import Path

import onnx
import torch

from densenets.apis import build_model, load_config
from tool_loader import load_tool

ROOT = Path(__file__).resolve().parents[2]
SSD_SMALL = str(ROOT / "configs" / "ssdlite_mbv3_small.py")
SSD_LARGE = str(ROOT / "configs" / "ssdlite_mbv3_large.py")
SEG_SMALL = str(ROOT / "configs" / "lraspp_mbv3_small_cityscapes.py")
cli = load_tool("deploy/export_onnx.py")
executorch_cli = load_tool("deploy/export_executorch.py")


def _save(config: str, path: Path) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    state = build_model(load_config(config)).state_dict()
    torch.save({"state_dict": state, "meta": {}}, path)
    return state


def test_checkpoint_of_another_config_is_refused(tmp_path: Path, capsys) -> None:
    ckpt = tmp_path / "ssdlite_mbv3_small.pth"
    small = _save(SSD_SMALL, ckpt)
    large = build_model(load_config(SSD_LARGE)).state_dict()
    first_shape = next(k for k in large if k in small and large[k].shape != small[k].shape)
    first_missing = next(k for k in large if k not in small)
    out = tmp_path / "large.onnx"
    rc = cli.main([SSD_LARGE, str(ckpt), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert str(ckpt) in err and "does not match" in err and "nothing was exported" in err
    assert first_shape in err and first_missing in err
    assert "Traceback" not in err
    assert not out.exists()


def test_missing_checkpoint_is_reported(tmp_path: Path, capsys) -> None:
    rc = cli.main([SSD_SMALL, str(tmp_path / "nope.pth"), "--out", str(tmp_path / "x.onnx")])
    assert rc == 2
    assert "nope.pth: no such file" in capsys.readouterr().err


def test_matching_checkpoint_exports_with_parity(tmp_path: Path, capsys) -> None:
    ckpt = tmp_path / "seg.pth"
    _save(SEG_SMALL, ckpt)
    out = tmp_path / "seg.onnx"
    rc = cli.main([SEG_SMALL, str(ckpt), "--out", str(out), "--shape", "64", "128", "--with-argmax"])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert "parity OK" in printed
    graph = onnx.load(str(out)).graph
    assert [o.name for o in graph.output] == ["logits", "labels"]
    assert not any(n.op_type == "BatchNormalization" for n in graph.node)  # BN folded


def test_with_nms_on_a_segmentor_is_a_clear_error(tmp_path: Path, capsys) -> None:
    rc = cli.main([SEG_SMALL, "none", "--out", str(tmp_path / "x.onnx"), "--shape", "64", "128", "--with-nms"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and "SSDLite" in err and "Traceback" not in err


def test_executorch_exporter_refuses_a_missing_checkpoint_in_one_line(tmp_path: Path, capsys) -> None:
    out = tmp_path / "x.pte"
    rc = executorch_cli.main([SSD_SMALL, str(tmp_path / "nope.pth"), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and "nope.pth: no such file" in err and "nothing was exported" in err
    assert "Traceback" not in err and not out.exists()


def test_executorch_exporter_needs_a_shape_for_a_config_that_keeps_the_image_size(tmp_path: Path, capsys) -> None:
    rc = executorch_cli.main([SEG_SMALL, "none", "--out", str(tmp_path / "x.pte")])
    err = capsys.readouterr().err
    assert rc == 2 and "the test pipeline keeps each image's size; pass --shape H W" in err
    assert "Traceback" not in err
