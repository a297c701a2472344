"""The local engine: N model processes at a time, driven by a pool of threads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed

from onnxproof.results._sweep import ModelSweepResult
from onnxproof.sweeping._task import SweepTask, run_task, stop_all


def run_local(
    tasks: Sequence[SweepTask],
    jobs: int,
    on_result: Callable[[ModelSweepResult], None] | None = None,
) -> list[ModelSweepResult]:
    """Run every task, at most ``jobs`` at once; results in the order they finish."""
    results: list[ModelSweepResult] = []
    # Threads only wait on processes, so the GIL is no limit; the work is in the processes.
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="sweep") as pool:
        futures = [pool.submit(run_task, task) for task in tasks]
        try:
            for future in as_completed(futures):
                result = future.result()
                results.append(result)
                if on_result is not None:
                    on_result(result)
        except BaseException:
            # Ctrl-C or a bug: queued runs never start, running ones are killed, so the pool's
            # exit does not wait on a hung model.
            for future in futures:
                future.cancel()
            stop_all()
            raise
    return results
