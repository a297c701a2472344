"""Runtimes in a worker process: a native crash or a hang becomes an error, not onnxproof's end.

``IsolatedRuntime`` wraps an in-process runtime (named ``"module:Class"``). Its session starts a
fresh interpreter (``python -m onnxproof.runtimes.workers``), loads the model there once, and
sends each infer's feeds and outputs as pickles over a socket pair. Not multiprocessing's spawn:
it re-runs the caller's ``__main__`` in the child, which breaks for unguarded scripts, stdin and
notebooks; and not fork: torch's and the runtimes' thread pools do not survive it. A child that dies
raises ``RuntimeCrashed("<name> crashed (signal 11) in infer ...")``; one that does not answer in
time is killed and raises ``RuntimeCrashed("<name> timed out after N s in infer")``.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

import numpy as np

from onnxproof.runtimes._base import Availability, Runtime, Session, SignedSession
from onnxproof.runtimes.workers._child import resolve

log = logging.getLogger(__name__)

Stage = Literal["load", "infer", "time"]


class RuntimeCrashed(RuntimeError):
    """The worker running a runtime died (a signal, an exit) or did not answer in time."""


class IsolatedRuntime(Runtime):
    """The runtime ``inner`` (``"module:Class"``), run in a worker process.

    Subclasses set ``name`` and ``inner`` (the registry needs a class); a one-off wrapper can pass
    them to the constructor instead. ``options`` go to the inner runtime's constructor, in the
    worker, so they must pickle.
    """

    name = "isolated"
    inner = ""
    #: Seconds one infer may take before the worker is killed.
    timeout: float = 60.0
    #: Seconds the worker may take to start and load (compile) the model.
    load_timeout: float = 120.0

    def __init__(
        self,
        *,
        inner: str | None = None,
        name: str | None = None,
        timeout: float | None = None,
        load_timeout: float | None = None,
        **options: Any,
    ) -> None:
        self.inner = inner or type(self).inner
        self.name = name or type(self).name
        self.timeout = timeout if timeout is not None else type(self).timeout
        self.load_timeout = load_timeout if load_timeout is not None else type(self).load_timeout
        self._options = options

    @classmethod
    def availability(cls) -> Availability:
        # The inner runtime answers without loading its native code (no crash can happen here).
        return resolve(cls.inner).availability()

    def load(self, model_path: str) -> Session:
        return IsolatedSession(
            self.name,
            self.inner,
            self._options,
            model_path,
            timeout=self.timeout,
            load_timeout=self.load_timeout,
        )


class IsolatedSession(SignedSession):
    """A model loaded in a worker. After a crash the next infer starts a fresh worker (the crash
    may belong to one input), up to ``MAX_RESTARTS`` crashes in a row; after a timeout, or past
    that, later calls fail at once rather than pay for a load or a wait again."""

    MAX_RESTARTS = 3

    def __init__(
        self,
        name: str,
        inner: str,
        options: dict[str, Any],
        model_path: str,
        *,
        timeout: float,
        load_timeout: float,
    ) -> None:
        self._name = name
        self._inner = inner
        self._options = options
        self._model_path = model_path
        self._timeout = timeout
        self._load_timeout = load_timeout
        self._conn: Connection | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._closed = False
        #: Why later calls fail at once (a timeout, or crashes in a row), else None.
        self._given_up: str | None = None
        self._crashes = 0
        meta = self._start()
        self.signature = meta["signature"]
        self._details: dict[str, str] = dict(meta["details"])

    @property
    def worker_pid(self) -> int | None:
        """The worker's process id while one runs."""
        return self._process.pid if self._process is not None else None

    def details(self) -> dict[str, str]:
        return {
            **self._details,
            "isolation": f"worker process; {self._timeout:g} s per infer",
        }

    def _start(self) -> dict[str, Any]:
        parent_end, child_end = socket.socketpair()
        with child_end:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "onnxproof.runtimes.workers", str(child_end.fileno())],
                pass_fds=(child_end.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=2,  # a runtime's own prints must not mix into onnxproof's stdout (JSON)
                env=_worker_env(),
            )
        # The parent's copy of the child's end is closed above, so a dead child reads as EOF.
        self._conn = Connection(parent_end.detach())
        self._conn.send(("load", self._inner, self._options, self._model_path, list(sys.path)))
        reply = self._receive("load", self._load_timeout)
        if reply[0] != "ready":
            self._stop()
            raise RuntimeError(reply[2])
        meta: dict[str, Any] = reply[1]
        return meta

    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self._closed:
            raise RuntimeError(f"the {self._name} session was closed")
        if self._given_up is not None:
            raise RuntimeCrashed(self._given_up)
        if self._conn is None:
            log.info("restarting the %s worker after a crash", self._name)
            self._start()
        assert self._conn is not None
        try:
            self._conn.send(("infer", {n: np.asarray(feeds[n]) for n in self.input_names}))
        except OSError:  # the worker died between calls: the reply tells how
            pass
        try:
            reply = self._receive("infer", self._timeout)
        except RuntimeCrashed as exc:
            self._crashes += 1
            if self._given_up is None and self._crashes >= self.MAX_RESTARTS:
                self._given_up = f"{exc}; not run again after {self._crashes} crashes in a row"
                raise RuntimeCrashed(self._given_up) from None
            raise
        self._crashes = 0
        if reply[0] != "ok":
            raise RuntimeError(reply[2])
        outputs: dict[str, np.ndarray] = reply[1]
        return outputs

    def time_calls(
        self,
        feeds: dict[str, np.ndarray],
        *,
        warmup: int,
        iterations: int | None,
        budget_s: float,
    ) -> tuple[list[float], str]:
        limit = self._timeout + self._wait_limit(
            feeds, warmup=warmup, iterations=iterations, budget_s=budget_s
        )
        assert self._conn is not None
        self._conn.send(
            (
                "time",
                {n: np.asarray(feeds[n]) for n in self.input_names},
                warmup,
                iterations,
                budget_s,
            )
        )
        reply = self._receive("time", limit)
        if reply[0] != "ok":
            raise RuntimeError(reply[2])
        return list(reply[1]), "inside the worker process, around the runtime's own call"

    def _receive(self, stage: Stage, timeout: float) -> tuple[Any, ...]:
        """The worker's reply, or RuntimeCrashed when it died or stayed silent past ``timeout``."""
        assert self._conn is not None
        if not self._conn.poll(timeout):
            self._stop(kill=True)
            message = f"{self._name} timed out after {timeout:g} s in {stage}"
            self._given_up = f"{message}; not run again"
            raise RuntimeCrashed(message)
        try:
            reply: tuple[Any, ...] = self._conn.recv()
        except (EOFError, OSError):
            code = self._stop()
            what, why = _exit_text(code)
            raise RuntimeCrashed(f"{self._name} {what} in {stage}{why}") from None
        return reply

    def _stop(self, *, kill: bool = False) -> int | None:
        """End the worker (asked first unless ``kill``) and return its exit code."""
        conn, process = self._conn, self._process
        self._conn = self._process = None
        if process is None:
            return None
        if kill:
            process.kill()
        elif conn is not None:
            try:
                conn.send(("close",))
            except OSError:
                pass
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if conn is not None:
            conn.close()
        return process.returncode

    def close(self) -> None:
        self._closed = True
        self._stop()


def _worker_env() -> dict[str, str]:
    """The environment, with onnxproof importable in the child even when it is not installed."""
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parents[3])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    return env


_SIGNAL_CAUSES = {
    "SIGSEGV": "a fault in the runtime's native code",
    "SIGBUS": "a fault in the runtime's native code",
    "SIGILL": "an instruction this CPU lacks, or a fault in native code",
    "SIGFPE": "an arithmetic fault in native code",
    "SIGABRT": "the runtime aborted",
    "SIGKILL": "killed from outside, often for running out of memory",
}


def _exit_text(code: int | None) -> tuple[str, str]:
    """("crashed (signal 11)", " (SIGSEGV: ...)") for a worker's exit code."""
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            return f"crashed (signal {-code})", ""
        why = _SIGNAL_CAUSES.get(name)
        return f"crashed (signal {-code})", f" ({name}: {why})" if why else f" ({name})"
    if code:
        return f"exited with code {code}", ""
    return "exited without answering", ""


__all__ = ["IsolatedRuntime", "IsolatedSession", "RuntimeCrashed"]
