"""Time one runtime: load once, warm up, then a fixed number of calls or a time budget per batch.

Each runtime is timed in its own block (thread pools of several runtimes in one process fight
for the cores when interleaved). The clock runs where the runtime does
(``Session.time_calls``): around the runtime's own call for in-process runtimes, inside the
worker, node process or browser page for the others, so no round trip to onnxproof is timed.
Inputs are made and checked once, outside the loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from onnxproof.results import LatencyRow


def time_runtime(
    name: str,
    path: str,
    feeds_by_batch: Mapping[int, dict[str, np.ndarray]],
    *,
    options: Mapping[str, Any] | None = None,
    warmup: int = 3,
    iterations: int | None = None,
    budget_s: float = 1.0,
    progress: Callable[[str], None] | None = None,
) -> list[LatencyRow]:
    """One row per batch size; a runtime that is missing or fails is a row with the error."""
    from onnxproof import runtimes
    from onnxproof.errors import OnnxproofError

    try:
        runtime = runtimes.get(name, **dict(options or {}))
    except OnnxproofError as exc:
        return [_failed(name, batch, str(exc)) for batch in feeds_by_batch]
    before = _rss_mb()
    start = time.perf_counter()
    try:
        session = runtime.load(path)
    except Exception as exc:
        return [_failed(name, b, f"could not load: {exc}") for b in feeds_by_batch]
    load_seconds = time.perf_counter() - start
    rows = []
    with session:
        for batch, feeds in feeds_by_batch.items():
            if progress is not None:
                progress(f"{name} at batch {batch}")
            try:
                seconds, where = session.time_calls(
                    feeds, warmup=warmup, iterations=iterations, budget_s=budget_s
                )
            except Exception as exc:
                rows.append(_failed(name, batch, str(exc).splitlines()[0][:300]))
                continue
            details = {**session.details(), "timed": where}
            rows.append(_row(name, batch, np.asarray(seconds), load_seconds, details))
        grown = _rss_mb() - before
    memory = round(grown, 1) if before > 0 else None
    return [r if r.error else _with_memory(r, memory) for r in rows]


def _row(
    name: str, batch: int, times: np.ndarray, load_seconds: float, details: dict[str, str]
) -> LatencyRow:
    p50, p90, p99 = (float(np.percentile(times, q)) * 1e3 for q in (50, 90, 99))
    return LatencyRow(
        runtime=name,
        batch=batch,
        iterations=len(times),
        p50_ms=round(p50, 4),
        p90_ms=round(p90, 4),
        p99_ms=round(p99, 4),
        mean_ms=round(float(times.mean()) * 1e3, 4),
        throughput=round(batch / (p50 / 1e3), 1) if p50 > 0 else None,
        load_seconds=round(load_seconds, 3),
        details=details,
    )


def _failed(name: str, batch: int, error: str) -> LatencyRow:
    return LatencyRow(
        runtime=name,
        batch=batch,
        iterations=0,
        p50_ms=None,
        p90_ms=None,
        p99_ms=None,
        mean_ms=None,
        throughput=None,
        error=error,
    )


def _with_memory(row: LatencyRow, memory: float | None) -> LatencyRow:
    import dataclasses

    return dataclasses.replace(row, memory_mb=memory)


def _rss_mb() -> float:
    """Resident memory of this process now (Linux); 0 where it cannot be read."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
