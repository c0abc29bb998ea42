"""The config tree stays shallow: `_base_` chains at most two levels deep, experiments inherit only `_base_/` files."""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import pytest

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
ALL = sorted(CONFIGS.rglob("*.py"))
MAX_DEPTH = 2


def _bases(path: Path) -> list[Path]:
    """The files named by ``_base_`` in ``path`` (read from the source, as mmengine resolves them: relative to it)."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_base_" for t in node.targets):
            value = ast.literal_eval(node.value)
            names = [value] if isinstance(value, str) else list(value)
            return [(path.parent / name).resolve() for name in names]
    return []


@lru_cache(maxsize=None)
def _depth(path: Path) -> int:
    bases = _bases(path)
    for base in bases:
        assert base.is_file(), f"{path}: _base_ {base} does not exist"
    return 1 + max(map(_depth, bases)) if bases else 0


def test_the_tree_is_read():
    assert len(ALL) > 40 and _depth(CONFIGS / "faster_rcnn_mobilenet_v1_300.py") == 2


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(CONFIGS)))
def test_base_chains_are_at_most_two_levels_deep(path):
    assert _depth(path) <= MAX_DEPTH, f"{path.relative_to(CONFIGS)}: _base_ chain {_depth(path)} levels deep"


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(CONFIGS)))
def test_configs_inherit_only_base_files(path):
    """Experiments (and demos) never inherit another experiment: what they share lives in configs/_base_/."""
    for base in _bases(path):
        assert (CONFIGS / "_base_") in base.parents, f"{path.relative_to(CONFIGS)} inherits {base}"
