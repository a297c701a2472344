"""The sweep: validate the whole zoo, reuse what still passes, run the rest side by side."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from onnxproof._signals import set_activity
from onnxproof.engines import ENGINES, Engine
from onnxproof.errors import UsageError
from onnxproof.results._sweep import ModelSweepResult, SweepReport
from onnxproof.sweeping._key import cache_key
from onnxproof.sweeping._task import JUNIT, KEY, REPORT, make_task, read_report, summarize
from onnxproof.sweeping._zoo import ZooModel, load_zoo

log = logging.getLogger(__name__)

#: A model's time limit when neither the zoo nor the caller gives one: a hang must end.
DEFAULT_TIMEOUT = 900.0
#: The sweep's own summary, beside the models' folders.
SUMMARY = "sweep.json"


def sweep(
    zoo: str | os.PathLike[str],
    *,
    engine: Engine = "local",
    jobs: int | None = None,
    force: bool = False,
    outdir: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    on_result: Callable[[ModelSweepResult], None] | None = None,
) -> SweepReport:
    """Run ``onnxproof run`` on every model of ``zoo`` (a zoo.toml), each in its own process.

    The zoo is validated first: a mistake is a UsageError and nothing runs. A model whose files,
    specs, options and versions are unchanged since a passing report is not run again (``force``
    runs it). Reports go to ``OUTDIR/NAME/`` (default: ``onnxproof-sweep/`` beside the zoo file),
    the summary to ``OUTDIR/sweep.json``. ``timeout`` is each model's limit unless its table
    sets one. ``on_result`` sees each row as it is known.
    """
    workers = _checked_arguments(engine, jobs, timeout)
    loaded = load_zoo(zoo)
    out = Path(outdir) if outdir is not None else loaded.path.parent / "onnxproof-sweep"
    _check_outdir(out)
    if engine == "ray":  # before anything runs: a missing Ray is a usage error, not N crashes
        from onnxproof.sweeping._ray import _import_ray

        _import_ray()
    threads = max(1, (os.cpu_count() or 1) // workers)
    rows: dict[str, ModelSweepResult] = {}
    tasks = []
    for model in loaded.models:
        key = cache_key(model)
        cached = None if force else _cached(model, out, key)
        if cached is not None:
            rows[model.name] = cached
            if on_result is not None:
                on_result(cached)
            continue
        limit = timeout or DEFAULT_TIMEOUT
        tasks.append(
            make_task(model, out, cwd=loaded.path.parent, timeout=limit, threads=threads, key=key)
        )
    log.info("sweep: %d models to run, %d cached", len(tasks), len(rows))
    set_activity(f"running {len(tasks)} models of {loaded.path.name}")
    start = time.monotonic()
    if engine == "ray":
        from onnxproof.sweeping._ray import run_ray

        results = run_ray(tasks, workers, on_result)
    else:
        from onnxproof.sweeping._local import run_local

        results = run_local(tasks, workers, on_result)
    rows.update((r.name, r) for r in results)
    ordered = tuple(rows[m.name] for m in loaded.models)
    report = SweepReport(
        status="pass" if all(r.verdict == "pass" for r in ordered) else "fail",
        zoo=str(loaded.path),
        outdir=str(out.resolve()),
        engine=engine,
        jobs=workers,
        models=ordered,
        seconds=round(time.monotonic() - start, 3),
    )
    from onnxproof.report.json_report import write_json

    write_json(report, out / SUMMARY)
    return report


def _checked_arguments(engine: str, jobs: int | None, timeout: float | None) -> int:
    """The number of models run at once, after checking the arguments a caller may get wrong."""
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}", hint=f"choose one of {', '.join(ENGINES)}")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise UsageError(f"jobs must be a whole number >= 1, not {jobs!r}")
    if timeout is not None and not timeout > 0:
        raise UsageError(f"timeout must be > 0 seconds, not {timeout!r}")
    return jobs or min(4, os.cpu_count() or 1)


def _cached(model: ZooModel, out: Path, key: str | None) -> ModelSweepResult | None:
    """The row of an earlier passing report made from the same inputs, if there is one."""
    folder = out / model.name
    if key is None:
        return None
    try:
        stored = (folder / KEY).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    report = read_report(folder / REPORT)
    if stored != key or report is None or report.get("status") != "pass":
        return None
    junit = folder / JUNIT
    common = {
        "name": model.name,
        "model": model.model,
        "cached": True,
        "key": key,
        "junit_path": str(junit) if junit.is_file() else None,
    }
    return summarize(report, folder / REPORT, common)


def _check_outdir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"-o {out} is a file, not a folder", hint="name a folder for the reports")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"-o {out}: cannot create the folder ({exc.strerror})") from exc
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(
            f"-o {out}: cannot write there (permission denied)",
            hint="choose a folder you can write to",
        )
