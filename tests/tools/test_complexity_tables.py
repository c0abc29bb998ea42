"""tools/analysis/complexity.py --table: the README's generated tables — the backbone rows with paper figures and
taps, and README.md holding exactly what the tool produces for the cheap (non-timing) tables."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from densenets.analysis import readme, tables
from densenets.analysis.paper_figures import BACKBONES
from tool_loader import load_tool

cli = load_tool("analysis/complexity.py")


def test_every_backbone_has_a_row_and_the_shufflenet_variants_are_listed() -> None:
    from densenets.models.backbones import BACKBONES as BUILDERS

    assert {row.name for row in BACKBONES} == set(BUILDERS)
    assert [r.options["groups"] for r in BACKBONES if r.name == "shufflenet_v1"] == [1, 2, 3, 4, 8]
    assert [r.options["width_mult"] for r in BACKBONES if r.name == "shufflenet_v2"] == [0.5, 1.0, 1.5, 2.0]


def test_shufflenet_v2_rows(capsys) -> None:
    assert cli.main(["--table", "backbones", "--names", "shufflenet_v2", "--json"]) == 0
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
    assert cli.main(["--table", "backbones", "--names", "resnet50"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown backbone(s) ['resnet50']")


def test_a_partial_table_is_never_written_into_the_readme(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--table", "backbones", "--names", "shufflenet_v2", "--write-readme"])
    assert "writes the whole table" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(tables.TABLES))
def test_readme_block_is_what_the_tool_writes(name: str) -> None:
    """README.md's generated tables are the tool's current output (run it with --write-readme after a change)."""
    block = f"{name.replace('_', '-')}-table"
    assert readme.read_block(block) == tables.TABLES[name](), \
        f"README.md {block} is stale: python tools/analysis/complexity.py --table {name} --write-readme"


def test_write_block_replaces_only_between_the_markers(tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    path.write_text("intro\n<!-- densenets:x start -->\nold\n<!-- densenets:x end -->\noutro\n")
    assert readme.write_block("x", "new\nlines", path)
    assert path.read_text() == "intro\n<!-- densenets:x start -->\nnew\nlines\n<!-- densenets:x end -->\noutro\n"
    assert not readme.write_block("x", "new\nlines", path)  # unchanged
    assert readme.read_block("x", path) == "new\nlines"
    path.write_text("<!-- densenets:x start -->\n")
    with pytest.raises(ValueError, match="expected one"):
        readme.read_block("x", path)
