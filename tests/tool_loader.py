"""``load_tool``: a command-line tool of ``tools/`` as a module, so that tests call its ``main(argv)`` in-process.

The tools are scripts, not a package, and nothing in ``densenets`` imports them (``tests/test_layering.py``); the
tests load them by path, through this one function.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

TOOLS = Path(__file__).resolve().parents[1] / "tools"


def load_tool(path: str) -> ModuleType:
    """``tools/<path>`` (e.g. ``"deploy/export_onnx.py"``) executed as a fresh module; it is registered in
    ``sys.modules`` (under ``densenets_tool_<path>``) because dataclasses look their module up there."""
    name = "densenets_tool_" + path.removesuffix(".py").replace("/", "_")
    spec = importlib.util.spec_from_file_location(name, TOOLS / path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
