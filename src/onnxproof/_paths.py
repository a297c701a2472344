"""What a path is, in words, so a message never calls a directory or a FIFO "missing". Leaf module."""

from __future__ import annotations

import stat
from pathlib import Path

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def path_kind(path: Path) -> str:
    """``"a file"``, ``"a directory"``, ``"a FIFO (named pipe)"``, … or ``"missing"``."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "a broken symbolic link" if path.is_symlink() else "missing"
    except OSError as exc:  # permission denied on a parent, a loop of links, a name too long
        return f"unreadable ({exc.strerror or type(exc).__name__})"
    if stat.S_ISREG(mode):
        return "a file"
    return next((words for test, words in _KINDS if test(mode)), "not a regular file")


def file_problem(path: Path, what: str) -> str | None:
    """None when ``path`` is a regular file; otherwise one sentence naming what it is instead.

    ``what`` names the expected file, e.g. ``"model file"`` or ``"weights file"``.
    """
    kind = path_kind(path)
    if kind == "a file":
        return None
    if kind == "missing":
        return f"{what} {str(path)!r} does not exist"
    return f"{what} {str(path)!r} is {kind}, not a file"
