"""The package's layers (docs/design.md "Layout"): no import runs back up.

Every ``densenets`` import in the package (module level or inside a function) is read with ``ast`` and checked
against the layer order: backbones -> necks / heads -> detectors / segmentors -> models; datasets, evaluation and
engine beside the models (the engine's checkpoint reader below them); deploy, apis and analysis on top; tools only above the package (nothing imports tools/).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "densenets"

# (prefix, rank): a module may import modules of its own rank or lower. The longest matching prefix wins.
RANKS = {
    "densenets.registry": 0,
    # the one checkpoint reader and state_dict check: leaf utilities (no densenets imports) that the backbones'
    # weights= and the tools share
    "densenets.engine.checkpoint": 1,
    "densenets.engine.state_dict": 1,
    "densenets.models.feature_spec": 1,
    "densenets.models.layers": 1,
    "densenets.models.backbones": 2,
    "densenets.models.fuse": 2,
    "densenets.models.data_preprocessor": 2,
    "densenets.models.builder": 3,
    "densenets.models.necks": 3,
    "densenets.models.heads": 3,
    "densenets.models.detectors": 4,
    "densenets.models.segmentors": 4,
    "densenets.models.classifier": 4,
    "densenets.models": 5,
    "densenets.datasets": 5,
    "densenets.evaluation": 6,
    "densenets.engine": 7,
    "densenets.deploy": 8,
    "densenets.apis": 9,
    "densenets.analysis": 10,
    "densenets": 11,
}
# beside, not below: the model side and the data side do not import each other
SEPARATE = [("densenets.models", "densenets.datasets"), ("densenets.models", "densenets.evaluation"),
            ("densenets.models", "densenets.engine"), ("densenets.datasets", "densenets.models"),
            ("densenets.datasets", "densenets.evaluation"), ("densenets.datasets", "densenets.engine")]


def _rank(module: str) -> int:
    best = max((p for p in RANKS if module == p or module.startswith(p + ".")), key=len)
    return RANKS[best]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[str]:
    mod = _module_name(path)
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names if a.name.startswith("densenets")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("densenets"):
                continue
            if node.module is None:  # ``from .. import x``: the submodules x
                out += [f"{target}.{a.name}" for a in node.names]
            else:
                out.append(target)
    return out


MODULES = sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_import_runs_back_up(path: Path):
    mod = _module_name(path)
    if path.name == "__init__.py" and mod == "densenets":
        return
    for target in _imports(path):
        if target == mod or target.startswith(mod + "."):  # a package importing its own submodules
            continue
        assert _rank(target) <= _rank(mod), f"{mod} imports {target} (a higher layer)"
        for low, other in SEPARATE:
            if _rank(target) <= 1:  # the leaf utilities above
                continue
            if (mod == low or mod.startswith(low + ".")) and (target == other or target.startswith(other + ".")):
                raise AssertionError(f"{mod} imports {target}: {low} and {other} stand beside each other")


def test_nothing_imports_tools():
    for path in MODULES:
        text = path.read_text()
        assert "tools/" not in "".join(_imports(path)) and "spec_from_file_location" not in text, path
