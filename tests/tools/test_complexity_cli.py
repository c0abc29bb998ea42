"""tools/analysis/complexity.py: backbone names, configs, --json, --num-classes, --backbone-options, clear errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from densenets.analysis import count_complexity
from densenets.models.classifier import ImageClassifier
from tool_loader import load_tool

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "analysis" / "complexity.py"
CONFIG = Path(__file__).with_name("tiny_classifier_config.py")
cli = load_tool("analysis/complexity.py")


def _json_last_line(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def test_script_runs_standalone_and_json_is_the_last_line() -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "shufflenet_v2", "--classifier", "--json",
         "--backbone-options", "width_mult=0.5"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    record = _json_last_line(proc.stdout)
    assert record["params"] == 1_366_792  # torchvision's shufflenet_v2_x0_5
    assert abs(record["madds"] / 1e6 - 41) / 41 < 0.02  # ShuffleNet V2 Table 5
    assert set(record["parts"]) == {"backbone", "head"}
    assert sum(p["madds"] for p in record["parts"].values()) == record["madds"]
    assert "total" in proc.stdout and "backbone" in proc.stdout


def test_bare_backbone_is_reported_by_unit(capsys) -> None:
    assert cli.main(["shufflenet_v1", "--shape", "64", "96", "--json",
                     "--backbone-options", "groups=8", "width_mult=0.25", "out_taps=C4,C5"]) == 0
    record = _json_last_line(capsys.readouterr().out)
    assert list(record["parts"]) == ["conv1", "stage2", "stage3", "stage4"]
    assert sum(p["params"] for p in record["parts"].values()) == record["params"]
    assert sum(p["madds"] for p in record["parts"].values()) == record["madds"]


def test_config_path_builds_the_registered_model(capsys) -> None:
    assert cli.main([str(CONFIG), "--json", "--num-classes", "7"]) == 0
    out = capsys.readouterr().out
    record = _json_last_line(out)
    expected = count_complexity(ImageClassifier("shufflenet_v2", num_classes=7, width_mult=0.5))
    assert (record["params"], record["madds"]) == (expected.params, expected.madds)
    assert record["parts"]["head"]["params"] == 1024 * 7 + 7
    assert "ImageClassifier" in out.splitlines()[0]


def test_config_backbone_options_and_shape(capsys) -> None:
    assert cli.main([str(CONFIG), "--json", "--shape", "96", "128", "--backbone-options", "width_mult=1.0"]) == 0
    record = _json_last_line(capsys.readouterr().out)
    expected = count_complexity(ImageClassifier("shufflenet_v2", num_classes=10), (96, 128))
    assert (record["params"], record["madds"], record["shape"]) == (expected.params, expected.madds, [96, 128])


def test_segmentation_config_on_an_atrous_shufflenet(tmp_path, capsys) -> None:
    cfg = tmp_path / "seg.py"
    cfg.write_text(
        "default_scope = 'densenets'\n"
        "model = dict(type='EncoderDecoder',\n"
        "             backbone=dict(name='shufflenet_v1', groups=3, width_mult=0.5, output_stride=16),\n"
        "             decode_head=dict(type='LRASPPHead', num_classes=19, channels=32))\n"
    )
    records = []
    for classes in ("19", "3"):
        assert cli.main([str(cfg), "--shape", "65", "97", "--json", "--num-classes", classes]) == 0
        records.append(_json_last_line(capsys.readouterr().out))
    (backbone19, head19), (backbone3, head3) = [(r["parts"]["backbone"], r["parts"]["decode_head"]) for r in records]
    assert backbone19 == backbone3 and head19["params"] > head3["params"]  # num_classes reached decode_head


def test_num_classes_is_set_everywhere_in_a_nested_model_config() -> None:
    cfg = dict(type="SSDLite", num_classes=90, backbone=dict(name="x"),
               decode_head=dict(type="LRASPPHead", num_classes=19), aux=[dict(num_classes=3)])
    assert cli.set_num_classes(cfg, 5) == 3
    assert cfg["num_classes"] == cfg["decode_head"]["num_classes"] == cfg["aux"][0]["num_classes"] == 5


def test_option_values_parse_as_literals() -> None:
    opts = cli.parse_options(["width_mult=0.5", "reduced_tail=detection", "out_taps=C4,C5", "weights=None", "x='1'"])
    assert opts == {"width_mult": 0.5, "reduced_tail": "detection", "out_taps": ("C4", "C5"), "weights": None, "x": "1"}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["no_such_backbone"], "neither a config file nor a backbone name; backbones: mobilenet_v1"),
        (["configs/no_such_config.py"], "config file not found: configs/no_such_config.py"),
        (["shufflenet_v2", "--num-classes", "3"], "needs --classifier"),
        (["shufflenet_v2", "--backbone-options", "width_mult=0.7"], "width_mult must be one of"),
        (["shufflenet_v2", "--backbone-options", "oops"], "expects key=value"),
        ([str(CONFIG), "--classifier"], "--classifier applies to backbone names"),
    ],
)
def test_bad_input_gives_a_clear_error(capsys, argv: list[str], message: str) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err.splitlines()[0] and "Traceback" not in err


def test_config_without_num_classes_is_named(tmp_path, capsys) -> None:
    cfg = tmp_path / "no_classes.py"
    cfg.write_text("default_scope = 'densenets'\nmodel = dict(type='ImageClassifier', backbone_name='shufflenet_v1')\n")
    assert cli.main([str(cfg), "--num-classes", "3"]) == 2
    assert f"{cfg}: --num-classes given but the model config has no 'num_classes' key" in capsys.readouterr().err
