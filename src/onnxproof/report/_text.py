"""Plain text with optional ANSI colour: aligned tables and marks, no third-party import.

Renderers return lines that may hold ANSI codes; the sink strips them when colour is off. Kept
free of rich so that ``onnxproof check`` starts about as fast as ``import onnx``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "cyan": "36",
    "bold red": "1;31",
    "bold green": "1;32",
    "bold yellow": "1;33",
}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
MARK = {True: "✓", False: "✗", None: "–"}
_MARK_STYLE = {True: "green", False: "red", None: "yellow"}


def paint(text: str, style: str) -> str:
    return f"\x1b[{_CODES[style]}m{text}\x1b[0m"


def plain(text: str) -> str:
    """``text`` without colour codes."""
    return _ANSI.sub("", text)


def mark(ok: bool | None) -> str:
    return paint(MARK[ok], _MARK_STYLE[ok])


def line(ok: bool | None, label: str, text: str) -> str:
    """A status line: mark, a label column, then the text."""
    return f"{mark(ok)} {label:<9} {text}"


def table(
    rows: Sequence[Sequence[str]], header: Sequence[str] | None = None, right: Sequence[int] = ()
) -> list[str]:
    """Columns aligned on the visible width (colour codes do not count), two spaces apart."""
    body = [list(r) for r in rows]
    if header is not None:
        body.insert(0, [paint(h, "bold") if h else h for h in header])
    if not body:
        return []
    columns = max(len(r) for r in body)
    widths = [max(len(plain(r[i])) for r in body if i < len(r)) for i in range(columns)]
    lines = []
    for row in body:
        cells = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - len(plain(cell)))
            cells.append(pad + cell if i in right else cell + pad)
        lines.append("  ".join(cells).rstrip())
    return lines
