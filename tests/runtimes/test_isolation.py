"""Runtimes in a worker process: a crash or a hang in the worker is an error, and onnxproof lives.

The misbehaving runtime is defined here; the worker imports it by name, as it imports OpenVINO's.
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

import onnxproof
from onnxproof import runtimes
from onnxproof.errors import DataError
from onnxproof.runtimes import Availability, Runtime, RuntimeCrashed, Session
from onnxproof.runtimes.ort import OrtCpu
from onnxproof.runtimes.workers import IsolatedRuntime
from tests import models

GOOD = {"x": np.ones((2, 3), dtype=np.float32)}
#: A negative first element makes the worker misbehave.
BAD = {"x": -np.ones((2, 3), dtype=np.float32)}


class MisbehavingSession(Session):
    """Doubles its input; on a negative first element it crashes, hangs or raises."""

    def __init__(self, mode: str) -> None:
        self._mode = mode

    @property
    def input_names(self) -> tuple[str, ...]:
        return ("x",)

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("y",)

    @property
    def input_dtypes(self) -> dict[str, np.dtype]:
        return {"x": np.dtype(np.float32)}

    def details(self) -> dict[str, str]:
        return {"mode": self._mode}

    def time_calls(
        self,
        feeds: dict[str, np.ndarray],
        *,
        warmup: int,
        iterations: int | None,
        budget_s: float,
    ) -> tuple[list[float], str]:
        if self._mode == "crash":
            os.kill(os.getpid(), signal.SIGSEGV)
        if self._mode == "fixed-clock":  # shows whose clock the parent reports
            return [0.125] * (iterations or 5), "the misbehaving session's clock"
        return super().time_calls(feeds, warmup=warmup, iterations=iterations, budget_s=budget_s)

    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        x = feeds["x"]
        if x.flat[0] < 0:
            if self._mode == "crash":
                os.kill(os.getpid(), signal.SIGSEGV)
            elif self._mode == "hang":
                time.sleep(600)
            elif self._mode == "raise":
                raise ValueError("negative inputs are not supported here")
        return {"y": x * 2}


class Misbehaving(Runtime):
    name = "misbehaving"

    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode

    @classmethod
    def availability(cls) -> Availability:
        return Availability(available=True, version="0")

    def load(self, model_path: str) -> Session:
        if self.mode == "crash-on-load":
            os.kill(os.getpid(), signal.SIGSEGV)
        return MisbehavingSession(self.mode)


def isolated(mode: str, timeout: float = 30.0) -> IsolatedRuntime:
    return IsolatedRuntime(
        inner=f"{__name__}:Misbehaving", name="misbehaving", timeout=timeout, mode=mode
    )


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_segfault_in_the_worker_is_an_error_and_the_next_call_runs_again() -> None:
    with isolated("crash").load("unused.onnx") as session:
        np.testing.assert_array_equal(session.infer(GOOD)["y"], GOOD["x"] * 2)
        pid = session.worker_pid  # type: ignore[attr-defined]
        with pytest.raises(RuntimeCrashed, match=r"misbehaving crashed \(signal 11\) in infer"):
            session.infer(BAD)
        assert pid is not None and not alive(pid)
        # The crash may belong to one input: a fresh worker serves the next call.
        np.testing.assert_array_equal(session.infer(GOOD)["y"], GOOD["x"] * 2)
        assert session.worker_pid not in (None, pid)  # type: ignore[attr-defined]
        assert session.details() == {
            "mode": "crash",
            "isolation": "worker process; 30 s per infer",
        }


def test_a_worker_that_crashes_on_every_call_is_given_up_after_three() -> None:
    with isolated("crash").load("unused.onnx") as session:
        for _ in range(2):
            with pytest.raises(RuntimeCrashed, match=r"crashed \(signal 11\) in infer \(SIGSEGV"):
                session.infer(BAD)
        with pytest.raises(RuntimeCrashed, match="not run again after 3 crashes in a row"):
            session.infer(BAD)
        start = time.perf_counter()
        with pytest.raises(RuntimeCrashed, match="not run again after 3 crashes in a row"):
            session.infer(GOOD)
        assert time.perf_counter() - start < 0.5  # no fresh worker was started


def test_a_hanging_worker_times_out_is_killed_and_not_waited_on_again() -> None:
    with isolated("hang", timeout=1).load("unused.onnx") as session:
        pid = session.worker_pid  # type: ignore[attr-defined]
        start = time.perf_counter()
        with pytest.raises(RuntimeCrashed, match=r"misbehaving timed out after 1 s in infer"):
            session.infer(BAD)
        assert time.perf_counter() - start < 15
        assert pid is not None and not alive(pid)
        start = time.perf_counter()
        with pytest.raises(RuntimeCrashed, match="timed out after 1 s in infer; not run again"):
            session.infer(GOOD)
        assert time.perf_counter() - start < 1


def test_latency_is_timed_inside_the_worker() -> None:
    """The figures are the worker's own: the socket round trip is not in them."""
    with isolated("fixed-clock").load("unused.onnx") as session:
        seconds, where = session.time_calls(GOOD, warmup=2, iterations=7, budget_s=0.0)
        assert seconds == [0.125] * 7
        assert where == "inside the worker process, around the runtime's own call"
    with isolated("ok").load("unused.onnx") as session:
        seconds, _ = session.time_calls(GOOD, warmup=2, iterations=9, budget_s=0.0)
        assert len(seconds) == 9 and all(0 <= s < 1 for s in seconds)


def test_a_crash_while_timing_is_an_error_and_the_worker_is_gone() -> None:
    with isolated("crash").load("unused.onnx") as session:
        pid = session.worker_pid  # type: ignore[attr-defined]
        with pytest.raises(RuntimeCrashed, match=r"misbehaving crashed \(signal 11\) in time"):
            session.time_calls(GOOD, warmup=1, iterations=3, budget_s=0.0)
        assert pid is not None and not alive(pid)


def test_a_crash_while_loading_is_an_error() -> None:
    with pytest.raises(RuntimeCrashed, match=r"misbehaving crashed \(signal 11\) in load"):
        isolated("crash-on-load").load("unused.onnx")


def test_errors_raised_in_the_worker_come_back_with_their_message() -> None:
    with isolated("raise").load("unused.onnx") as session:
        pid = session.worker_pid  # type: ignore[attr-defined]
        with pytest.raises(RuntimeError, match="negative inputs are not supported here"):
            session.infer(BAD)
        assert session.infer(GOOD)["y"].shape == (2, 3)
        assert session.worker_pid == pid  # type: ignore[attr-defined]


def test_feeds_are_checked_before_they_reach_the_worker_and_close_ends_it() -> None:
    session = isolated("ok").load("unused.onnx")
    pid = session.worker_pid  # type: ignore[attr-defined]
    assert session.input_dtypes == {"x": np.dtype(np.float32)}
    with pytest.raises(DataError, match="input 'x' is float64 but the model declares float32"):
        session.infer({"x": np.ones((2, 3))})
    with pytest.raises(ValueError, match="missing"):
        session.infer({})
    session.close()
    session.close()
    assert not alive(pid)
    with pytest.raises(RuntimeError, match="closed"):
        session.infer(GOOD)


class CrashingOrtSession(Session):
    """ONNX Runtime that dies with SIGSEGV on every infer."""

    def __init__(self, inner: Session) -> None:
        self._inner = inner

    @property
    def input_names(self) -> tuple[str, ...]:
        return self._inner.input_names

    @property
    def output_names(self) -> tuple[str, ...]:
        return self._inner.output_names

    @property
    def input_dtypes(self) -> dict[str, np.dtype]:
        return self._inner.input_dtypes

    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        os.kill(os.getpid(), signal.SIGSEGV)
        return {}


class CrashingOrt(OrtCpu):
    name = "crashing-ort"

    def load(self, model_path: str) -> Session:
        return CrashingOrtSession(super().load(model_path))


class CrashingOrtIsolated(IsolatedRuntime):
    name = "crashing-ort"
    inner = f"{__name__}:CrashingOrt"


def test_a_runtime_that_crashes_is_a_failing_row_of_the_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(runtimes.REGISTRY, "crashing-ort", f"{__name__}:CrashingOrtIsolated")
    report = onnxproof.run(
        models.SimpleNet(),
        inputs=["input:float32[batch,10]"],
        output=tmp_path / "s.onnx",
        runtimes=["ort-cpu", "crashing-ort"],
    )
    ort_row, crashing_row = report.runtimes
    assert ort_row.passed and not crashing_row.passed
    errors = {c.error for c in crashing_row.cases}
    assert any("crashing-ort crashed (signal 11) in infer" in (e or "") for e in errors), errors
    assert any(
        f.code == "runtime-failure" and "crashed (signal 11)" in f.message for f in report.findings
    )
