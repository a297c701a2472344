"""Interrupts and time limits as exceptions that no model or exporter code can swallow.

The command line installs ``install()``; the library checks ``raise_if_interrupted()`` between
steps that call into code which catches broad exceptions (an exporter may turn a
KeyboardInterrupt into its own error and carry on with a fallback). ``activity`` says what is
running, for the message.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any


class Stopped(BaseException):
    """The run was stopped from outside (a signal or the time limit). Not an ``Exception``, so
    ``except Exception`` in a model or an exporter lets it through."""

    exit_code = 3

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Interrupted(Stopped):
    """SIGINT (Ctrl-C) or SIGTERM: exit 128 + the signal's number, like a shell."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.exit_code = 128 + signum


class TimedOut(Stopped):
    """The whole run took longer than ``--timeout``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the run took longer than its {seconds:g} s time limit")
        self.seconds = seconds


_state: dict[str, Any] = {"received": None, "activity": "starting"}


def set_activity(text: str) -> None:
    _state["activity"] = text


def activity() -> str:
    return str(_state["activity"])


def raise_if_interrupted() -> None:
    """Raise again a stop that code in between may have swallowed."""
    received = _state["received"]
    if received is not None:
        raise received


def install(timeout: float | None = None) -> Callable[[], None]:
    """Turn SIGINT and SIGTERM (and the time limit) into ``Stopped``; returns an undo."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        _state["received"] = Interrupted(signum)
        raise _state["received"]

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        _state["received"] = TimedOut(timeout or 0.0)
        raise _state["received"]

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    if timeout:
        previous[signal.SIGALRM] = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)

    def undo() -> None:
        if timeout:
            signal.setitimer(signal.ITIMER_REAL, 0)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _state["received"] = None

    return undo


@contextlib.contextmanager
def install_for_command() -> Iterator[None]:
    """SIGINT and SIGTERM as ``Interrupted`` for a whole command (``install`` inside it adds the
    time limit for the library call). Only the main thread can set handlers; elsewhere (a
    command run from a worker thread) the process's own handling stays."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    set_activity("starting")
    undo = install()
    try:
        yield
    finally:
        undo()
