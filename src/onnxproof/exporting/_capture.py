"""Capture the exporters' console chatter (fd-level stdout/stderr, warnings, logging) for the log."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Captured:
    """What the exporters said while capture was on."""

    lines: list[str] = field(default_factory=list)
    warnings: list[warnings.WarningMessage] = field(default_factory=list)


@contextlib.contextmanager
def capture_console(enabled: bool = True) -> Iterator[Captured]:
    """Redirect fds 1 and 2 (C++ and Python prints alike) and record warnings.

    With ``enabled=False`` the chatter goes to the terminal as usual, but warnings are still
    recorded so rules that read them (traced control flow) work under ``--verbose`` too.
    """
    captured = Captured()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if not enabled:
            try:
                yield captured
            finally:
                captured.warnings.extend(caught)
            return
        sys.stdout.flush()
        sys.stderr.flush()
        with tempfile.TemporaryFile(mode="w+b") as sink:
            saved = {fd: os.dup(fd) for fd in (1, 2)}
            handler = logging.StreamHandler(_Lines(captured.lines))
            handler.setLevel(logging.INFO)
            root = logging.getLogger("torch")
            root.addHandler(handler)
            # Python-level streams too: sys.stdout is not fd 1 under Jupyter or pytest.
            text_sink = _Lines(captured.lines)
            try:
                for fd in (1, 2):
                    os.dup2(sink.fileno(), fd)
                with contextlib.redirect_stdout(text_sink), contextlib.redirect_stderr(text_sink):  # type: ignore[type-var]
                    yield captured
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                for fd, copy in saved.items():
                    os.dup2(copy, fd)
                    os.close(copy)
                root.removeHandler(handler)
                sink.seek(0)
                text = sink.read().decode("utf-8", errors="replace")
                captured.lines.extend(line for line in text.splitlines() if line.strip())
                captured.warnings.extend(caught)
                captured.lines.extend(
                    f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught
                )


class _Lines:
    """A file-like object that appends written lines to a list."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines

    def write(self, text: str) -> int:
        self._lines.extend(line for line in text.splitlines() if line.strip())
        return len(text)

    def flush(self) -> None:
        pass
