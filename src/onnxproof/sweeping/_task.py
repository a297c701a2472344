"""One model of a sweep as one isolated process: ``python -m onnxproof run`` with a time limit.

Each run gets its own process group, so a time-out kills the run and everything it started, and
a crash (a segfault, ``os._exit``) ends only that run: it becomes a row, not the sweep's end.
The task is plain data, so a Ray worker runs it the same way a local thread does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onnxproof.results._sweep import ModelSweepResult, SweepVerdict
from onnxproof.sweeping._zoo import ZooModel

REPORT = "report.json"
JUNIT = "junit.xml"
LOG = "run.log"
ONNX = "model.onnx"
#: Written beside a passing report: the cache key it was made with.
KEY = "sweep-key.txt"
#: Seconds a run is given after SIGTERM before SIGKILL, to leave its workers no orphans.
_GRACE = 2.0
_RANK = {"error": 0, "warning": 1, "info": 2}

# Process groups of runs still going, so a sweep stopped midway (Ctrl-C) leaves none behind.
_LIVE: set[int] = set()
_LIVE_LOCK = threading.Lock()


@dataclass(frozen=True, kw_only=True)
class SweepTask:
    """Everything one model's process needs, as plain picklable data."""

    name: str
    model: str
    argv: tuple[str, ...]
    folder: str
    cwd: str
    env: dict[str, str]
    timeout: float | None
    key: str | None


def make_task(
    model: ZooModel,
    outdir: Path,
    *,
    cwd: Path,
    timeout: float | None,
    threads: int,
    key: str | None,
) -> SweepTask:
    """The ``onnxproof run`` command line for ``model``, its reports under ``outdir/NAME``."""
    folder = outdir / model.name
    argv = [sys.executable, "-m", "onnxproof", "run", model.model, *_flags(model.options)]
    argv += ["-o", str(folder / ONNX), "--json", str(folder / REPORT)]
    argv += ["--junit", str(folder / JUNIT), "--quiet"]
    # N runs side by side each with every core would fight over them; the user's setting wins.
    env = {
        name: str(threads)
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
        if name not in os.environ
    }
    return SweepTask(
        name=model.name,
        model=model.model,
        argv=tuple(argv),
        folder=str(folder),
        cwd=str(cwd),
        env=env,
        timeout=model.timeout if model.timeout is not None else timeout,
        key=key,
    )


def _flags(options: dict[str, Any]) -> list[str]:
    """The zoo keys as ``onnxproof run`` options (every key has one; timeout is enforced here)."""
    repeated = {"inputs": "--input", "targets": "--target", "runtimes": "--runtime"}
    flags: list[str] = []
    for key, value in options.items():
        if key == "timeout":
            continue
        if key in repeated:
            for item in value:
                flags += [repeated[key], item]
        elif key == "tolerances":
            for output, (atol, rtol) in value.items():
                flags += ["--tol", f"{output}={atol!r},{rtol!r}"]
        elif key == "localize":
            flags.append("--localize" if value else "--no-localize")
        else:
            flags += ["--" + key.replace("_", "-"), str(value)]
    return flags


def run_task(task: SweepTask) -> ModelSweepResult:
    """Run one model's process to the end (or its time limit) and read what it reported."""
    folder = Path(task.folder)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in (REPORT, JUNIT, KEY):  # a report left by an earlier run must not be read as new
        (folder / stale).unlink(missing_ok=True)
    log_path = folder / LOG
    started = time.time()
    timed_out = False
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            task.argv,
            cwd=task.cwd,
            env={**os.environ, **task.env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with _LIVE_LOCK:
            _LIVE.add(process.pid)
        try:
            process.wait(timeout=task.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            # The run itself, and whatever it started (runtime workers, a browser), go together.
            _stop_group(process)
            with _LIVE_LOCK:
                _LIVE.discard(process.pid)
    finished = time.time()
    result = _result(task, process.returncode, timed_out, log_path)
    result = dataclasses.replace(
        result,
        seconds=round(finished - started, 3),
        started_at=started,
        finished_at=finished,
        log_path=str(log_path),
    )
    if result.verdict == "pass" and task.key is not None:
        (folder / KEY).write_text(task.key + "\n", encoding="utf-8")
    return result


def stop_all() -> None:
    """Kill every run still going (the sweep was interrupted)."""
    with _LIVE_LOCK:
        groups = list(_LIVE)
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=_GRACE)
        except subprocess.TimeoutExpired:
            pass
    # SIGKILL the group even after the run ended: a worker it left would hold its files.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _result(task: SweepTask, code: int, timed_out: bool, log_path: Path) -> ModelSweepResult:
    folder = Path(task.folder)
    common: dict[str, Any] = {"name": task.name, "model": task.model, "exit_code": code}
    common["key"] = task.key
    if timed_out:
        return ModelSweepResult(
            verdict="timed-out", detail=f"timed out after {task.timeout:g}s", **common
        )
    if code < 0:
        try:
            name = f": {signal.Signals(-code).name}"
        except ValueError:
            name = ""
        return ModelSweepResult(
            verdict="crashed", detail=f"crashed (signal {-code}{name})", **common
        )
    if code not in (0, 1, 2, 3):
        return ModelSweepResult(verdict="crashed", detail=f"crashed (exit {code})", **common)
    report = read_report(folder / REPORT)
    junit = folder / JUNIT
    common["junit_path"] = str(junit) if junit.is_file() else None
    if report is None:
        verdict: SweepVerdict = "fail" if code == 1 else "error"
        detail = _error_line(log_path) or f"exit {code} without a report"
        return ModelSweepResult(verdict=verdict, detail=detail, **common)
    return summarize(report, folder / REPORT, common, detail=_error_line(log_path))


def summarize(
    report: dict[str, Any], path: Path, common: dict[str, Any], *, detail: str = ""
) -> ModelSweepResult:
    """A row from a run's JSON report: its verdict and its findings."""
    findings = report.get("findings") or []
    ordered = sorted(findings, key=lambda f: _RANK.get(f.get("severity"), 3))
    codes = tuple(dict.fromkeys(str(f.get("code")) for f in ordered))
    status = report.get("status")
    verdict: SweepVerdict = status if status in ("pass", "fail", "error") else "error"
    return ModelSweepResult(
        verdict=verdict,
        detail="" if verdict == "pass" else detail,
        finding_count=len(findings),
        finding_codes=codes,
        report_path=str(path),
        **common,
    )


def read_report(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _error_line(log_path: Path) -> str:
    """The run's own one-line error (``error: ...``), if it printed one."""
    try:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    errors = [line for line in lines if line.startswith("error: ")]
    return errors[-1][len("error: ") :] if errors else ""
