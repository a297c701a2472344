"""The Ray engine: each model a Ray task running the same isolated process as the local engine.

The only module that imports ray. Without a running Ray instance one is started on this machine
with ``jobs`` CPUs (and stopped after); with one (``ray.init(address=...)`` before the sweep, or
``RAY_ADDRESS``), the tasks go to its cluster, whose workers need onnxproof installed and the
zoo's files and OUTDIR at the same paths (a shared file system).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from onnxproof.errors import RuntimeUnavailable, UsageError
from onnxproof.results._sweep import ModelSweepResult
from onnxproof.sweeping._task import SweepTask, run_task


def run_ray(
    tasks: Sequence[SweepTask],
    jobs: int,
    on_result: Callable[[ModelSweepResult], None] | None = None,
) -> list[ModelSweepResult]:
    """Run every task as a Ray task (one CPU each); results in the order they finish."""
    ray = _import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        try:
            if os.environ.get("RAY_ADDRESS"):
                ray.init()
            else:
                ray.init(num_cpus=max(1, jobs), include_dashboard=False, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise RuntimeUnavailable(
                f"Ray could not start or connect: {str(exc).strip().splitlines()[0][:200]}",
                hint="check RAY_ADDRESS (or unset it to start Ray here), or use --engine local",
            ) from exc
    # No retries: a model that crashes its worker is a result, not something to run twice.
    remote = ray.remote(num_cpus=1, max_retries=0)(run_task)
    pending: list[Any] = [remote.remote(task) for task in tasks]
    task_of = dict(zip(pending, tasks, strict=True))
    results: list[ModelSweepResult] = []
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                try:
                    result: ModelSweepResult = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    # The Ray worker itself died (out of memory, a lost node): a row, like a
                    # crash of the model's own process, and the other models go on.
                    task = task_of[ref]
                    why = str(exc).strip().splitlines()[0][:200] if str(exc) else type(exc).__name__
                    result = ModelSweepResult(
                        name=task.name,
                        model=task.model,
                        verdict="crashed",
                        detail=f"its Ray worker failed: {type(exc).__name__}: {why}",
                        key=task.key,
                    )
                results.append(result)
                if on_result is not None:
                    on_result(result)
    except BaseException:
        # Not force: the task gets KeyboardInterrupt, and run_task's cleanup kills its process
        # group; a killed worker would leave that group running.
        for ref in pending:
            ray.cancel(ref)
        raise
    finally:
        if started_here:
            ray.shutdown()
    return results


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise UsageError(
            f"--engine ray needs Ray, which cannot be imported ({exc})",
            hint="pip install 'onnxproof[ray]'",
        ) from exc
    return ray
