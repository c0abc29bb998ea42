"""Shared by the whole suite: ``tests/`` on ``sys.path`` for the helpers kept beside this file (``tool_loader``)."""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
