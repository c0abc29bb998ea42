"""Shared by the whole suite: ``tests/`` on ``sys.path`` for the helpers kept beside this file (``tool_loader``,
``realistic_model``), and the fixtures more than one folder uses."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from realistic_model import realistic_model  # noqa: E402


@pytest.fixture(scope="session")
def make_realistic_model():
    """:func:`realistic_model.realistic_model`: a model with non-degenerate calibrated random weights."""
    return realistic_model
