"""The Ray engine: a dataset's batches compared on the actors of a Ray cluster.

The driver plans the data into batches from file headers (``data.shards``), so the sample count
is known before anything runs and every batch has its global sample indices. Ray Data hands
groups of consecutive batches to a pool of stateful actors; each actor loads the PyTorch model
once (from its reference, with the driver's weights) and opens the ONNX session once, reads its
batches itself, and sends back only per-batch statistics (``BatchResult``: pickled, small),
never outputs. The driver merges them in batch order with the same ``DatasetTally`` the local
engine uses, keyed by batch id: a batch that comes back twice (a retried task) counts once, and a
run whose compared samples differ from the planned count is an error, not a pass.

Fault tolerance is Ray Data's: its actors restart after a crash (``max_restarts=-1``) and the
lost task runs again (``max_task_retries=-1``).
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from onnxproof import errors
from onnxproof.data.shards import ShardPlan, group_batches, plan_shards, read_planned
from onnxproof.errors import OnnxproofError, RuntimeUnavailable, UsageError
from onnxproof.specs import TensorSpec
from onnxproof.verification.dataset import (
    BatchResult,
    DatasetOutcome,
    DatasetTally,
    compare_batch,
)
from onnxproof.verification.tolerance import TolerancePolicy

log = logging.getLogger(__name__)

RAY_INSTALL = "pip install 'onnxproof[ray]'"
#: Tasks per worker: enough that a slow or restarted actor does not hold the run up, few enough
#: that Ray's per-task overhead stays small beside the work.
TASKS_PER_WORKER = 4


@dataclass(frozen=True, kw_only=True)
class ModelRecipe:
    """How a worker rebuilds the PyTorch reference: the reference string (``file.py:Name``,
    ``pkg.mod:Name``, ``hf:DIR``, ...) loaded with ``onnxproof.loading``, then the driver's
    weights (``state``, the module's state_dict) loaded into it, so a class whose constructor
    draws random weights still gives the driver's model. Without a loadable reference the
    module itself is shipped (its class must then be importable on the workers)."""

    reference: str | None
    state: Any = None
    module: Any = None


@dataclass(frozen=True, kw_only=True)
class _Job:
    """Everything an actor needs; small (the weights and ONNX bytes travel by object ref)."""

    plan: ShardPlan
    groups: tuple[tuple[int, ...], ...]
    specs: tuple[TensorSpec, ...]
    reference: str | None
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    onnx_path: str
    runtime: str
    policy: TolerancePolicy
    task: str | None
    worst: int
    #: [state ref, module ref or None, ONNX bytes ref or None]: refs nested in a list are not
    #: resolved by Ray before the constructor runs, so a restarted actor fetches them itself.
    shared: list[Any]
    #: Each output's dims as the file declares them (for the padded-position excuse).
    output_dims: dict[str, tuple[int | str | None, ...]] | None = None


def import_ray() -> Any:
    """``ray`` with Ray Data, or a UsageError (exit 2) saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401 -- Ray Data is a separate extra of ray
    except ImportError as exc:
        raise UsageError(
            f"--engine ray needs Ray Data, which is not installed ({exc})",
            hint=f"install it with: {RAY_INSTALL}; or leave --engine out to verify locally",
        ) from None
    return ray


def verify_dataset_ray(
    *,
    model: ModelRecipe,
    onnx_path: str | Path,
    data: str | Path,
    specs: tuple[TensorSpec, ...],
    output_names: tuple[str, ...],
    policy: TolerancePolicy,
    runtime: str = "ort-cpu",
    task: str | None = None,
    worst: int = 5,
    batch_size: int = 32,
    max_samples: int | None = None,
    workers: int | None = None,
    address: str | None = None,
    progress: Callable[[int], None] | None = None,
    plan: ShardPlan | None = None,
    output_dims: dict[str, tuple[int | str | None, ...]] | None = None,
) -> DatasetOutcome:
    """Compare ``data`` (a .npy/.npz/.parquet file or a folder of them) on ``workers`` Ray actors.

    ``address`` goes to ``ray.init`` (a running cluster: ``auto`` or ``ray://host:10001``);
    without it a local Ray starts with ``workers`` CPUs (default: this machine's), and stops
    after. When Ray is already initialized in this process it is used as it is. ``workers``
    actors of one CPU each compare batches (default: the cluster's CPUs).
    """
    if workers is not None and workers < 1:
        raise UsageError(f"--workers {workers} is below 1", hint="give --workers 1 or more")
    ray = import_ray()
    if plan is None:  # ``prepare`` made it already when the pipeline runs this
        plan = plan_shards(data, specs, batch_size=batch_size, max_samples=max_samples)
    start = time.perf_counter()
    started_here = _init(ray, address, workers or os.cpu_count() or 1)
    try:
        workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        groups = group_batches(plan, workers * TASKS_PER_WORKER)
        onnx_bytes = Path(onnx_path).read_bytes() if address is not None else None
        shared = [
            ray.put(model.state),
            None if model.reference else ray.put(model.module),
            None if onnx_bytes is None else ray.put(onnx_bytes),
        ]
        job = _Job(
            plan=plan,
            groups=tuple(groups),
            specs=specs,
            reference=model.reference,
            input_names=tuple(s.name for s in specs),
            output_names=output_names,
            onnx_path=str(Path(onnx_path).resolve()),
            runtime=runtime,
            policy=policy,
            task=task,
            worst=worst,
            shared=shared,
            output_dims=output_dims,
        )
        tally = _run(ray, job, workers, progress)
    finally:
        if started_here:
            ray.shutdown()
    failing = None
    if tally.first_failing is not None:  # read again here: workers never send inputs back
        failing = next(read_planned(plan, specs, [tally.first_failing]))[1]
    report = tally.report(
        source=plan.description,
        task=task,
        seconds=time.perf_counter() - start,
        engine="ray",
        workers=workers,
        samples_expected=plan.samples,
    )
    return DatasetOutcome(report=report, failing_batch=failing)


def recipe_for(loaded: Any) -> ModelRecipe:
    """How workers rebuild a ``loading.LoadedModel``: by its reference when that is loadable
    (a module passed as an object has only its class name), always with its current weights."""
    reference = loaded.reference
    loadable = isinstance(reference, str) and (
        ":" in reference or reference.endswith((".pt2", ".pt", ".pth", ".ts", ".torchscript"))
    )
    return ModelRecipe(
        reference=reference if loadable else None,
        state=loaded.module.state_dict(),
        module=None if loadable else loaded.module,
    )


def prepare(
    data: Any, specs: tuple[TensorSpec, ...], *, batch_size: int, max_samples: int | None
) -> ShardPlan:
    """Fail fast, before any export: Ray is installed and the data can be sharded."""
    import_ray()
    if not isinstance(data, str | Path):
        raise UsageError(
            f"--engine ray reads data files, not a {type(data).__name__}",
            hint="save the data as .npz/.npy/.parquet shards in a folder, or use the local engine",
        )
    return plan_shards(data, specs, batch_size=batch_size, max_samples=max_samples)


def _init(ray: Any, address: str | None, workers: int) -> bool:
    """Start or join Ray quietly; True when this call started it (and must stop it)."""
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    options: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": logging.WARNING,
    }
    if address is None:
        options["num_cpus"] = workers
    else:
        options["address"] = address
    try:
        ray.init(**options)
    except Exception as exc:  # a wrong address, an unreachable cluster
        raise UsageError(
            f"could not start or join Ray at {address or 'a local cluster'}: {exc}",
            hint="check --ray-address (e.g. auto, or ray://head-node:10001), or leave it out",
        ) from exc
    return True


def _run(ray: Any, job: _Job, workers: int, progress: Callable[[int], None] | None) -> DatasetTally:
    # Ray Data reports each execution at INFO on stderr; the report says what matters.
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    context = ray.data.DataContext.get_current()
    for name, value in (("enable_progress_bars", False), ("print_on_execution_start", False)):
        if hasattr(context, name):
            setattr(context, name, value)
    dataset = ray.data.from_items(
        [{"group": i} for i in range(len(job.groups))], override_num_blocks=len(job.groups)
    ).map_batches(
        _Worker,
        fn_constructor_kwargs={"job": job},
        compute=ray.data.ActorPoolStrategy(size=workers),
        batch_size=1,
        num_cpus=1,
    )
    tally = DatasetTally()
    try:
        for row in dataset.iter_rows():
            result: BatchResult = pickle.loads(row["result"])
            tally.add(result)
            if progress is not None:
                progress(result.samples)
    except Exception as exc:
        cause = _user_error(exc)
        if cause is not None:
            raise cause from None
        # Ray retries lost workers on its own; what reaches here it could not recover from.
        lines = str(exc).strip().splitlines()
        raise RuntimeUnavailable(
            f"the Ray run failed: {type(exc).__name__}: {lines[0] if lines else ''}",
            hint="see the Ray logs (/tmp/ray/session_latest/logs), or use --engine local",
        ) from exc
    if tally.duplicates:
        log.info("%d batches came back twice (retried tasks); each counted once", tally.duplicates)
    return tally


def _user_error(exc: BaseException) -> OnnxproofError | None:
    """The OnnxproofError a worker raised (bad data, a model that does not load there), if any:
    a task's error arrives as its cause, an actor's constructor's only as the text it ends with."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            break
        if isinstance(seen, OnnxproofError):
            return seen
        lines = [line for line in str(seen).splitlines() if line.strip()]
        match = re.match(r"onnxproof\.errors\.(\w+): (.*)", lines[-1] if lines else "")
        cls = getattr(errors, match[1], None) if match else None
        if match and isinstance(cls, type) and issubclass(cls, OnnxproofError):
            return cls(f"on a Ray worker: {match[2]}")
        seen = getattr(seen, "cause", None) or seen.__cause__
    return None


class _Worker:
    """One Ray actor: the model and the session opened once, then batches group by group."""

    def __init__(self, job: _Job) -> None:
        from onnxproof import runtimes

        self._job = job
        state_ref, module_ref, onnx_ref = job.shared
        module = _rebuild(job.reference, module_ref, state_ref)
        path = job.onnx_path
        if onnx_ref is not None and not Path(path).is_file():  # no shared file system
            handle, path = tempfile.mkstemp(suffix=".onnx")
            with os.fdopen(handle, "wb") as f:
                f.write(_get(onnx_ref))
        reference = runtimes.get(
            "torch",
            module=module,
            input_names=job.input_names,
            output_names=job.output_names,
            threads=1,
        )
        self._reference = reference.load(path)
        self._candidate = runtimes.get(job.runtime).load(path)

    def __call__(self, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        job = self._job
        results = []
        for group in rows["group"]:
            for planned, arrays in read_planned(job.plan, job.specs, job.groups[int(group)]):
                result = compare_batch(
                    self._reference,
                    self._candidate,
                    arrays,
                    batch_id=planned.batch_id,
                    first_index=planned.first_index,
                    specs=job.specs,
                    policy=job.policy,
                    task=job.task,
                    worst=job.worst,
                    output_dims=job.output_dims,
                )
                results.append(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
        out = np.empty(len(results), dtype=object)
        out[:] = results
        return {"result": out}


def _get(ref: Any) -> Any:
    import ray

    return ray.get(ref)


def _rebuild(reference: str | None, module_ref: Any, state_ref: Any) -> Any:
    """The eval-mode PyTorch module on a worker, with the driver's weights."""
    if reference is not None:
        from onnxproof.loading import load_model

        module = load_model(reference).module
    else:
        module = _get(module_ref)
    state = _get(state_ref)
    if state is not None:
        module.load_state_dict(state)
    return module.eval()
