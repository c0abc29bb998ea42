"""tools/analysis/backbone_table.py: the README's backbone table rows, with paper figures and taps."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "analysis" / "backbone_table.py"


def _load():
    spec = importlib.util.spec_from_file_location("densenets_backbone_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


table = _load()


def test_every_backbone_has_a_row_and_the_shufflenet_variants_are_listed() -> None:
    from densenets.models.backbones import BACKBONES

    names = {row[0] for row in table.ROWS}
    assert names == set(BACKBONES)
    assert [r[1]["groups"] for r in table.ROWS if r[0] == "shufflenet_v1"] == [1, 2, 3, 4, 8]
    assert [r[1]["width_mult"] for r in table.ROWS if r[0] == "shufflenet_v2"] == [0.5, 1.0, 1.5, 2.0]


def test_shufflenet_v2_rows(capsys) -> None:
    assert table.main(["--names", "shufflenet_v2", "--json"]) == 0
    out = capsys.readouterr().out
    rows = json.loads(out.strip().splitlines()[-1])
    assert [r["options"]["width_mult"] for r in rows] == [0.5, 1.0, 1.5, 2.0]
    one = rows[1]
    assert one["params"] == 2_278_604
    assert one["taps"] == {"C4": {"channels": 232, "stride": 16}, "C5": {"channels": 1024, "stride": 32},
                           "OS8": {"channels": 116, "stride": 8}}
    line = next(l for l in out.splitlines() if l.startswith("| shufflenet_v2 | width_mult=1.0 |"))
    assert "| 2.279M | 144.9M | 2.3M (=) | 146M (-0.7%) | 232 / 16 | 1024 / 32 | 116 / 8 |" in line


def test_unknown_name_is_an_error(capsys) -> None:
    with pytest.raises(SystemExit):
        table.main(["--names", "resnet50"])
    assert "unknown backbone(s) ['resnet50']" in capsys.readouterr().err
