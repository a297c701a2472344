"""Writing a rendered report: '-' is stdout; a file goes through ``outputs.atomic_write`` (temp
file beside the target, then rename; links followed, devices written through, modes kept)."""

from __future__ import annotations

import sys
from pathlib import Path

from onnxproof.outputs import STDOUT, atomic_write


def write_text(text: str, path: str | Path) -> None:
    """Write ``text`` to ``path`` (UTF-8); '-' writes it to stdout."""
    if str(path) == STDOUT:
        sys.stdout.write(text)
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
