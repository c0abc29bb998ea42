"""Tables that tools generate live in README.md between markers, written by the tool, never pasted:

    <!-- densenets:NAME start -->
    ...generated...
    <!-- densenets:NAME end -->

:func:`read_block` returns what is between the markers, :func:`write_block` replaces it.
"""
from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- densenets:{name} start -->", f"<!-- densenets:{name} end -->"


def _span(text: str, name: str, path: Path) -> tuple[int, int]:
    start, end = _markers(name)
    found = tuple([m.start() for m in re.finditer(re.escape(marker), text)] for marker in (start, end))
    if len(found[0]) != 1 or len(found[1]) != 1 or found[0][0] > found[1][0]:
        raise ValueError(f"{path}: expected one '{start}' followed by one '{end}', found {len(found[0])} start and "
                         f"{len(found[1])} end marker(s)")
    return found[0][0] + len(start), found[1][0]


def read_block(name: str, path: Path = README) -> str:
    """The text between ``name``'s markers, without the newlines next to them."""
    text = path.read_text(encoding="utf-8")
    a, b = _span(text, name, path)
    return text[a:b].strip("\n")


def write_block(name: str, content: str, path: Path = README) -> bool:
    """Put ``content`` between ``name``'s markers; returns whether the file changed."""
    text = path.read_text(encoding="utf-8")
    a, b = _span(text, name, path)
    new = text[:a] + "\n" + content.strip("\n") + "\n" + text[b:]
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text
