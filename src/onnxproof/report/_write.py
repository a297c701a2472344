"""Writing a rendered report: a temp file beside the target, then rename; '-' is stdout."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def write_text(text: str, path: str | Path) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8); '-' writes it to stdout."""
    if str(path) == "-":
        sys.stdout.write(text)
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        # mkstemp makes the file private; a report is a document, readable as a file is made
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
