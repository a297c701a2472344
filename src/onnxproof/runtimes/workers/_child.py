"""The worker side: load the inner runtime once, then answer infer requests until told to stop.

Runs in a fresh interpreter (``python -m onnxproof.runtimes.workers FD``), so nothing here may
rely on state from the parent; every message is a plain tuple of picklable values (names, numpy
arrays, dtypes, strings).
"""

from __future__ import annotations

import importlib
import signal
import sys
from multiprocessing.connection import Connection
from typing import Any

from onnxproof.runtimes._base import Runtime, Session, Signature


def resolve(path: str) -> type[Runtime]:
    """``"package.module:Class"`` → the class."""
    module_name, _, class_name = path.partition(":")
    cls: type[Runtime] = getattr(importlib.import_module(module_name), class_name)
    return cls


def error_text(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def serve(conn: Connection) -> None:
    """The worker's main loop. The first request is ("load", inner, options, model_path,
    sys.path); replies: ("ready", meta) once, then ("ok", outputs) or ("error", type name,
    message) per ("infer", feeds), ("ok", seconds per call) per ("time", feeds, warmup,
    iterations, budget_s), until ("close",) or the parent goes away."""
    # Ctrl-C reaches the whole process group; the parent decides, and closes the worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _, inner, options, model_path, path = conn.recv()
    except EOFError:
        return
    sys.path[:] = path  # the parent's, so a runtime class defined outside onnxproof resolves
    try:
        session = resolve(inner)(**options).load(model_path)
        meta = {
            "signature": Signature(
                session.input_names, dict(session.input_dtypes), session.output_names
            ),
            "details": session.details(),
        }
    except Exception as exc:
        conn.send(("error", type(exc).__name__, error_text(exc)))
        return
    conn.send(("ready", meta))
    with session:
        while True:
            try:
                request = conn.recv()
            except EOFError:
                return
            if request[0] == "close":
                return
            try:
                reply: tuple[Any, ...] = ("ok", _answer(session, request))
            except Exception as exc:
                reply = ("error", type(exc).__name__, error_text(exc))
            conn.send(reply)


def _answer(session: Session, request: tuple[Any, ...]) -> Any:
    if request[0] == "time":
        _, feeds, warmup, iterations, budget_s = request
        seconds, _where = session.time_calls(
            feeds, warmup=warmup, iterations=iterations, budget_s=budget_s
        )
        return seconds
    return session.infer(request[1])
