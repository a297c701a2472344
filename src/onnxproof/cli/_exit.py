"""Leave the process without tearing the interpreter down.

A finished ``onnxproof`` command has nothing left to do but exit, yet a normal exit clears every
loaded module and runs the C++ destructors of the extensions: with ``onnx`` loaded that is about
20 ms, a sixth of a ``check`` (``benchmarks/startup.py``). mypy ends its command line the same
way. What a normal exit does that matters is kept: the standard streams are flushed and the
``atexit`` handlers run (logging's flush, ``weakref.finalize`` clean-ups such as temporary
folders, Ray's shutdown). When a non-daemon thread is still alive, the process exits normally,
since a normal exit would wait for it.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading


def exit_code_of(code: object) -> int:
    """The status ``sys.exit(code)`` gives: None → 0, an int as is, anything else printed → 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def leave(code: object) -> None:
    """Exit with ``code`` (as ``sys.exit`` takes it) after flushing and the exit handlers."""
    status = exit_code_of(code)
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if any(not t.daemon for t in others):
        sys.exit(status)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            # A closed pipe (``onnxproof check f | head``) has nothing left to receive.
            status = status or 120
    os._exit(status)
