"""``bench``: verify every runtime against PyTorch, then time each in a block of its own."""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from onnxproof.errors import UsageError
from onnxproof.options import BenchOptions, ExportOptions, VerifyOptions
from onnxproof.results import BenchReport, LatencyRow, RunReport
from onnxproof.runtimes import MODULE_RUNTIMES
from onnxproof.specs import TensorSpec


def bench(
    model: Any = None,
    onnx_path: str | Path | None = None,
    *,
    inputs: Sequence[str] | None = None,
    weights: str | Path | None = None,
    output: str | Path | None = None,
    options: BenchOptions | None = None,
    progress: Callable[[str], None] | None = None,
) -> BenchReport:
    """Latency per runtime and batch size, each runtime's parity verdict beside it. With a
    model, the file is exported (or ``onnx_path`` verified) and every runtime judged against
    PyTorch first, and eager PyTorch is timed too; with only ``onnx_path``, nothing is verified.
    """
    from onnxproof import environment
    from onnxproof.pipeline._context import prepare
    from onnxproof.pipeline._export import eval_mode_kept
    from onnxproof.pipeline._preflight import check_runtime_names

    options = options or BenchOptions()
    check_runtime_names(options.runtimes)
    if model is None and onnx_path is None:
        raise UsageError("bench needs a model, an ONNX file, or both")
    if model is None and "torch-compile" in options.runtimes:
        raise UsageError(
            "torch-compile times the PyTorch model, and only an ONNX file was given",
            hint="give the model too: onnxproof bench MODEL [ONNX_FILE] --runtime torch-compile",
        )
    loaded = prepare(model, None, inputs, weights) if model is not None else None
    module = loaded[0].module if loaded is not None else None
    # Eval mode for the timing too: BatchNorm in training mode would time another computation
    # and update its running statistics while being timed.
    with (
        tempfile.TemporaryDirectory(prefix="onnxproof-bench-") as scratch,
        eval_mode_kept(module) if module is not None else contextlib.nullcontext(()) as training,
    ):
        verification, specs, path = _verified(
            loaded, training, onnx_path, inputs, output or Path(scratch) / "model.onnx", options
        )
        batch_dim = _batch_dim(specs)
        feeds = _feeds(specs, batch_dim, options)
        rows = _timed_rows(path, feeds, module, specs, verification, options, progress)
    return BenchReport(
        model=verification.model if verification else str(onnx_path),
        onnx_path=str(onnx_path or output or "(temporary)"),
        batch_dim=batch_dim,
        rows=tuple(rows),
        verification=verification,
        settings={k: v for k, v in dataclasses.asdict(options).items()},
        environment=environment.collect(),
    )


def _timed_rows(
    path: str,
    feeds: dict[int, dict[str, Any]],
    module: Any,
    specs: tuple[TensorSpec, ...],
    verification: RunReport | None,
    options: BenchOptions,
    progress: Callable[[str], None] | None,
) -> list[LatencyRow]:
    """Each runtime timed in a block of its own: the ONNX runtimes, then those that run the
    module, eager PyTorch last (its OpenMP threads keep spinning for a while after each call
    and would take the cores from the runtime timed next)."""
    from onnxproof.benchmarking import time_runtime

    names = [n for n in options.runtimes if n not in MODULE_RUNTIMES]
    if module is not None:
        names += [n for n in options.runtimes if n in MODULE_RUNTIMES and n != "torch"]
        names.append("torch")
    rows: list[LatencyRow] = []
    for name in names:
        rows += time_runtime(
            name,
            path,
            feeds,
            options=_runtime_options(name, module, specs, verification, options),
            warmup=options.warmup,
            iterations=options.iterations,
            budget_s=options.budget_s,
            progress=progress,
        )
    return rows


def _verified(
    loaded: tuple[Any, tuple[TensorSpec, ...]] | None,
    training: tuple[str, ...],
    onnx_path: str | Path | None,
    inputs: Sequence[str] | None,
    output: str | Path,
    options: BenchOptions,
) -> tuple[RunReport | None, tuple[TensorSpec, ...], str]:
    """Verify the file against the model (export it first when no file was given). Runs in
    eval mode, inside ``bench``."""
    from onnxproof.pipeline import verify_file
    from onnxproof.pipeline._context import RunContext
    from onnxproof.pipeline._export import export_step
    from onnxproof.pipeline._verdict import finish

    if loaded is None:
        assert onnx_path is not None
        return None, _specs_of_file(str(onnx_path), inputs), str(onnx_path)
    model, specs = loaded
    on_file = tuple(n for n in options.runtimes if n not in MODULE_RUNTIMES)
    ctx = RunContext(
        model,
        specs,
        ExportOptions(output=output),
        VerifyOptions(runtimes=on_file or ("ort-cpu",), seed=options.seed),
    )
    if onnx_path is not None:
        ctx.onnx_path = str(onnx_path)
        verify_file(ctx, str(onnx_path))
    elif export_step(ctx, None, training) and ctx.onnx_path:
        verify_file(ctx, ctx.onnx_path)
    report = finish(ctx)
    if ctx.onnx_path is None:
        raise UsageError(
            "the model could not be exported, so there is nothing to time",
            hint="onnxproof run shows why",
        )
    return report, specs, ctx.onnx_path


def _specs_of_file(path: str, inputs: Sequence[str] | None) -> tuple[TensorSpec, ...]:
    from onnxproof.checking import model_info, read_model
    from onnxproof.linting import specs_from_metadata
    from onnxproof.specs import Dim, parse_input_specs

    if inputs:
        return parse_input_specs(tuple(inputs))
    info = model_info(read_model(path))
    recorded = specs_from_metadata(info)
    if recorded:
        return recorded
    specs = []
    for value in info.inputs:
        if value.shape is None or any(d is None for d in value.shape):
            raise UsageError(
                f"input {value.name!r} of {path} has dims of unknown size",
                hint="give --input for each input, e.g. --input 'x:float32[batch,3,224,224]'",
            )
        dims = tuple(
            Dim(size=d) if isinstance(d, int) else Dim(size=2, name=str(d)) for d in value.shape
        )
        specs.append(TensorSpec(name=value.name, dtype=value.dtype, dims=dims))
    return tuple(specs)


def _batch_dim(specs: tuple[TensorSpec, ...]) -> str | None:
    """The dynamic dim at axis 0 of the first input: what --batch sets."""
    if specs and specs[0].dims and specs[0].dims[0].name is not None:
        return specs[0].dims[0].name
    return None


def _feeds(
    specs: tuple[TensorSpec, ...], batch_dim: str | None, options: BenchOptions
) -> dict[int, dict[str, Any]]:
    from onnxproof.data import synthetic_cases

    example = {d.name: d.size for s in specs for d in s.dims if d.name is not None}
    if batch_dim is None:
        first = specs[0].dims[0].size if specs and specs[0].dims else 1
        batches = [first]
    else:
        batches = list(dict.fromkeys(options.batches))
    feeds = {}
    for batch in batches:
        sizes = {**example, **({batch_dim: batch} if batch_dim else {})}
        case = next(
            iter(synthetic_cases(specs, seed=options.seed, draws=("normal",), sizes=[sizes]))
        )
        feeds[batch] = case.feeds
    return feeds


def _runtime_options(
    name: str,
    module: Any,
    specs: tuple[TensorSpec, ...],
    verification: RunReport | None,
    options: BenchOptions,
) -> dict[str, Any]:
    if name in MODULE_RUNTIMES:
        outputs = tuple(t.name for t in verification.outputs) if verification else ()
        return {
            "module": module,
            "input_names": tuple(s.name for s in specs),
            "output_names": outputs,
            "threads": options.threads,
        }
    if name.startswith("ort-") and options.threads is not None:
        return {"threads": options.threads}
    return {}
