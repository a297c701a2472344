"""A session that runs in a node process: one process per loaded model, JSON lines both ways.

The process is the isolation: a crash, an exit or a hang in the JavaScript runtime (or the browser
behind it) is an exception here, never the end of onnxproof. Arrays cross as base64 of their raw
little-endian bytes with dtype and dims, so NaN, Inf and int64 arrive exactly.
"""

from __future__ import annotations

import base64
import collections
import json
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Any, NoReturn

import numpy as np

from onnxproof.errors import DataError
from onnxproof.runtimes._base import Session

#: onnxruntime-js tensor type → NumPy dtype (bool travels as one byte per element, float16 as
#: its IEEE half bits: both read back bit for bit).
JS_DTYPES: dict[str, np.dtype] = {
    name: np.dtype(dtype)
    for name, dtype in {
        "float32": np.float32,
        "float64": np.float64,
        "float16": np.float16,
        "int8": np.int8,
        "uint8": np.uint8,
        "int16": np.int16,
        "uint16": np.uint16,
        "int32": np.int32,
        "uint32": np.uint32,
        "int64": np.int64,
        "uint64": np.uint64,
        "bool": np.bool_,
    }.items()
}
_JS_NAMES = {dtype: name for name, dtype in JS_DTYPES.items()}
#: How long a closing worker may take to let go of its runtime (a browser closes in ~0.1 s).
_CLOSE_TIMEOUT_S = 5.0


class WorkerError(RuntimeError):
    """The worker's runtime raised, or the worker died or stopped answering."""


class JsWorkerSession(Session):
    """A model loaded in a node worker script that speaks ``js/protocol.js``."""

    def __init__(
        self,
        *,
        runtime: str,
        command: list[str],
        load_request: dict[str, Any],
        timeout_s: float,
        load_timeout_s: float,
        details: dict[str, str],
        timed_in: str = "inside the node process",
    ) -> None:
        self._runtime = runtime
        self._timed_in = timed_in
        self._timeout_s = timeout_s
        self._details = dict(details)
        self._next_id = 0
        self._dead: str | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=40)
        self._replies: queue.Queue[str | None] = queue.Queue()
        node = shutil.which("node") or "node"
        # A session of its own: closing (or a timeout) can stop the browser with the node process.
        self._process = subprocess.Popen(
            [node, *command],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        assert self._process.stdout is not None and self._process.stderr is not None
        self._threads = [
            threading.Thread(target=_pump, args=(self._process.stdout, self._replies.put, True)),
            threading.Thread(target=_pump, args=(self._process.stderr, self._stderr.append, False)),
        ]
        for thread in self._threads:
            thread.daemon = True
            thread.start()
        try:
            reply = self._request(load_request, load_timeout_s)
        except BaseException:
            self.close()
            raise
        self._inputs = tuple(str(i["name"]) for i in reply["inputs"])
        self._declared = {str(i["name"]): i.get("type") for i in reply["inputs"]}
        self._outputs = tuple(str(n) for n in reply["outputs"])
        self._details.update({str(k): str(v) for k, v in reply.get("details", {}).items()})

    @property
    def input_names(self) -> tuple[str, ...]:
        return self._inputs

    @property
    def output_names(self) -> tuple[str, ...]:
        return self._outputs

    @property
    def pid(self) -> int:
        """The node process running this model."""
        return self._process.pid

    def details(self) -> dict[str, str]:
        return dict(self._details)

    @property
    def input_dtypes(self) -> dict[str, np.dtype]:
        return {
            name: np.dtype(JS_DTYPES[declared])
            for name, declared in self._declared.items()
            if declared in JS_DTYPES
        }

    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        encoded = [self._encode(name, np.asarray(feeds[name])) for name in self._inputs]
        reply = self._request({"op": "run", "feeds": encoded}, self._timeout_s)
        return {str(t["name"]): decode_tensor(t) for t in reply["outputs"]}

    def time_calls(
        self,
        feeds: dict[str, np.ndarray],
        *,
        warmup: int,
        iterations: int | None,
        budget_s: float,
    ) -> tuple[list[float], str]:
        limit = self._wait_limit(feeds, warmup=warmup, iterations=iterations, budget_s=budget_s)
        request = {
            "op": "time",
            "feeds": [self._encode(name, np.asarray(feeds[name])) for name in self._inputs],
            "warmup": warmup,
            "iterations": iterations,
            "budgetMs": budget_s * 1e3,
        }
        reply = self._request(request, self._timeout_s + limit)
        return [float(t) / 1e3 for t in reply["times_ms"]], f"{self._timed_in}, around session.run"

    def _encode(self, name: str, array: np.ndarray) -> dict[str, Any]:
        """The wire form of one feed, after checking its dtype against the file's declaration
        (the JavaScript runtimes would otherwise reinterpret or reject the bytes unclearly)."""
        declared = self._declared.get(name)
        found = _JS_NAMES.get(array.dtype.newbyteorder("="))
        if declared is not None and found != declared:
            raise DataError(
                f"input {name!r} is {array.dtype} but the model declares {declared}",
                hint=f"feed {declared} data ({self._runtime} does not convert types)",
            )
        if found is None:
            raise DataError(
                f"input {name!r} has dtype {array.dtype}, which {self._runtime} cannot take",
                hint=f"use one of {', '.join(JS_DTYPES)}",
            )
        raw = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
        return {
            "name": name,
            "dtype": found,
            "dims": list(array.shape),
            "data": base64.b64encode(raw).decode("ascii"),
        }

    def _request(self, payload: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """Send one request and wait for its reply; a dead or silent worker is a WorkerError."""
        if self._dead is not None:
            raise WorkerError(self._dead)
        self._next_id += 1
        request_id = self._next_id
        deadline = time.monotonic() + timeout_s
        line = (json.dumps({**payload, "id": request_id}) + "\n").encode()
        # The write has the same deadline as the reply: a worker that stopped reading blocks a
        # write larger than the pipe holds, and only stopping it (below) ends that write.
        failed: list[OSError] = []
        writer = threading.Thread(target=_write, args=(self._process.stdin, line, failed))
        writer.daemon = True
        writer.start()
        writer.join(timeout_s)
        if writer.is_alive():
            self._timed_out(payload["op"], timeout_s)
        if failed:
            raise WorkerError(self._died())
        while True:
            try:
                text = self._replies.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self._timed_out(payload["op"], timeout_s)
            if text is None:
                raise WorkerError(self._died())
            reply = _parse(text)
            if reply is None or reply.get("id") != request_id:
                self._stderr.append(text)  # stray output of a library, not a reply
                continue
            if not reply.get("ok"):
                raise WorkerError(str(reply.get("error", "the worker gave no reason")))
            return reply

    def _timed_out(self, op: str, timeout_s: float) -> NoReturn:
        self._stop()
        self._dead = (
            f"{self._runtime} did not answer within {timeout_s:g} s ({op}); "
            "its node process was stopped"
        )
        raise WorkerError(self._dead)

    def _died(self) -> str:
        """Why the worker is gone, from its exit status and the last thing it wrote."""
        try:
            code = self._process.wait(timeout=_CLOSE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._stop()
            code = self._process.wait()
        if code < 0:
            try:
                signame = f", {signal.Signals(-code).name}"
            except ValueError:
                signame = ""
            what = f"node crashed (signal {-code}{signame})"
        else:
            what = f"node exited with code {code}"
        for thread in self._threads:
            thread.join(timeout=1.0)
        self._dead = f"{self._runtime}: {what}" + (
            f": {why}" if (why := self._last_words()) else ""
        )
        return self._dead

    def _last_words(self) -> str:
        """The worker's own ``fatal:`` line if it wrote one, else the tail of its stderr."""
        lines = [line.strip() for line in self._stderr if line.strip()]
        fatal = [line.removeprefix("fatal: ") for line in lines if line.startswith("fatal: ")]
        return (fatal[-1] if fatal else " | ".join(lines[-4:]))[-600:]

    def _stop(self) -> None:
        """Kill the worker and everything it started (the browser of ort-web)."""
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._process.wait()

    def close(self) -> None:
        if self._dead is None and self._process.poll() is None:
            try:
                self._request({"op": "close"}, _CLOSE_TIMEOUT_S)
                assert self._process.stdin is not None
                self._process.stdin.close()
                self._process.wait(timeout=_CLOSE_TIMEOUT_S)
            except (WorkerError, subprocess.TimeoutExpired):
                pass
        self._dead = self._dead or f"the {self._runtime} session was closed"
        self._stop()  # whatever is left of the process group
        for thread in self._threads:
            thread.join(timeout=1.0)
        for stream in (self._process.stdin, self._process.stdout, self._process.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


def decode_tensor(tensor: dict[str, Any]) -> np.ndarray:
    """One output from its wire form; the array owns its (writable) bytes."""
    dtype = JS_DTYPES.get(str(tensor["dtype"]))
    if dtype is None:
        raise WorkerError(f"output {tensor['name']!r} has type {tensor['dtype']}, not readable")
    raw = bytearray(base64.b64decode(tensor["data"]))
    array = np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype, copy=False)
    return array.reshape([int(d) for d in tensor["dims"]])


def worker_script(name: str) -> Path:
    return Path(__file__).parent / "js" / name


def _parse(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _write(stream: IO[bytes] | None, data: bytes, failed: list[OSError]) -> None:
    try:
        assert stream is not None
        stream.write(data)
        stream.flush()
    except OSError as exc:  # BrokenPipeError: the worker is gone
        failed.append(exc)
    except ValueError:  # the stream was closed under the write: the worker was stopped
        pass


def _pump(stream: IO[bytes], put: Any, mark_end: bool) -> None:
    """Forward each line of a worker's stream; None marks the end of stdout (the worker is gone)."""
    try:
        for raw in stream:
            put(raw.decode("utf-8", "replace").rstrip("\n"))
    except (OSError, ValueError):  # the stream was closed under us: the session is closing
        pass
    if mark_end:
        put(None)
