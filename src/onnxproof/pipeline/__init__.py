"""The library calls behind each command: check, lint, export, verify and run.

Each is a few small steps over one ``RunContext``; the verdict is computed once, last. Heavy
modules (torch, the exporters, runtimes) are imported inside the steps, so ``import onnxproof``,
``onnxproof --help`` and ``onnxproof check`` stay free of torch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from onnxproof import _signals
from onnxproof.errors import ModelCodeError, UsageError
from onnxproof.pipeline._lint import checked
from onnxproof.specs import Severity

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from onnxproof.options import DataOptions, RunKeywords, VerifyOptions
    from onnxproof.pipeline._context import RunContext
    from onnxproof.results import CheckReport, ExportResult, Finding, RunReport

__all__ = ["bench", "check", "choose_opset", "export", "lint", "optimize", "run", "verify"]


def choose_opset(requested: int | None, targets: Sequence[str]) -> tuple[int, str]:
    """The opset to ask the exporter for, and why (see ``_export.choose_opset``)."""
    from onnxproof.pipeline._export import choose_opset as choose

    return choose(requested, targets)


F = TypeVar("F", bound=Callable[..., Any])


def _model_code_guarded(func: F) -> F:
    """A ``sys.exit`` or KeyboardInterrupt from the model's code is a failure of the model, never
    an exit of onnxproof (which would read as success with exit 0). A real Ctrl-C arrives as
    ``_signals.Interrupted`` and is let through."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (SystemExit, KeyboardInterrupt) as exc:
            _signals.raise_if_interrupted()
            what = (
                f"called sys.exit({exc.code!r})"
                if isinstance(exc, SystemExit)
                else ("raised KeyboardInterrupt")
            )
            raise ModelCodeError(
                f"the model's code {what} while {_signals.activity()}; nothing was verified",
                hint="remove the exit from the model's import path and forward()",
            ) from exc

    return wrapper  # type: ignore[return-value]


def check(
    path: str | Path, *, targets: Sequence[str] = (), fail_on: Severity | str = Severity.ERROR
) -> CheckReport:
    """onnx.checker (full), shape inference, model info and lint findings (per target), with the
    verdict over them in ``status``. No torch."""
    return checked(path, targets, fail_on=fail_on)


def lint(path: str | Path, *, targets: Sequence[str] = ()) -> tuple[Finding, ...]:
    """The findings of the graph rules, and of the target rules for each target. No torch."""
    return check(path, targets=targets).findings


@_model_code_guarded
def export(
    model: Any = None,
    example_inputs: Sequence[Any] | Mapping[str, Any] | None = None,
    *,
    inputs: Sequence[str] | Mapping[str, str] | None = None,
    output: str | Path | None = None,
    weights: str | Path | None = None,
    exporter: str = "auto",
    opset: int | None = None,
    verbose: bool = False,
) -> ExportResult:
    """Export ``model`` (an nn.Module or a reference such as ``net.py:Net``) to ONNX in eval
    mode under no_grad; raises ExportError when no exporter can."""
    from onnxproof.exporting import export_model
    from onnxproof.pipeline._context import prepare
    from onnxproof.pipeline._export import (
        choose_opset,
        eval_mode_kept,
        export_args,
        output_path,
        with_findings,
    )
    from onnxproof.pipeline._preflight import check_opset

    check_opset(opset)  # before the model loads
    loaded, specs = prepare(model, example_inputs, inputs, weights)
    chosen, _ = choose_opset(opset, ())
    with eval_mode_kept(loaded.module) as training:
        result = export_model(
            loaded.module,
            specs,
            output_path(output, loaded.reference),
            args=export_args(specs, example_inputs),
            reference=loaded.reference,
            exporter=exporter,
            opset=chosen,
            verbose=verbose,
            training_modules=training,
            exported_program=loaded.exported_program,
        )
    return with_findings(result, built_here=loaded.built_here)


@_model_code_guarded
def run(
    model: Any = None,
    example_inputs: Sequence[Any] | Mapping[str, Any] | None = None,
    *,
    inputs: Sequence[str] | Mapping[str, str] | None = None,
    weights: str | Path | None = None,
    **keywords: Unpack[RunKeywords],
) -> RunReport:
    """Export, check and verify in one call; the model's training flags are restored after.

    Keywords (``options.RunKeywords``): ``output``, ``exporter``, ``opset``, ``verbose``;
    ``atol``, ``rtol``, ``tolerances`` ({output: (atol, rtol)}), ``seed``, ``fail_on``,
    ``targets``, ``localize`` (None: when an output fails; True: always; False: never),
    ``save_inputs``; ``data`` (a path — .npz, .npy, .pt, a folder of arrays or images — or any
    iterable of dicts or tuples of arrays/tensors, a DataLoader too), ``batch_size``,
    ``max_samples``, ``task``, ``image_spec``, ``progress(samples, total)``; ``engine``
    ("local", or "ray" to compare the data on a Ray cluster: ``engines.ray``), ``workers``,
    ``ray_address``.
    """
    from onnxproof.options import split_keywords
    from onnxproof.pipeline._context import RunContext, prepare
    from onnxproof.pipeline._created import removed_on_user_error
    from onnxproof.pipeline._export import eval_mode_kept, export_step, output_path
    from onnxproof.pipeline._generation import generation_step
    from onnxproof.pipeline._preflight import check_opset
    from onnxproof.pipeline._verdict import finish
    from onnxproof.pipeline._verify import open_data_step

    export_options, verify_options, data_options = split_keywords(keywords)
    _check_cheap(verify_options, data_options)  # before the model loads
    check_opset(export_options.opset)
    loaded, specs = prepare(model, example_inputs, inputs, weights)
    ctx = RunContext(loaded, specs, export_options, verify_options, data_options)
    open_data_step(ctx)  # bad data fails before the expensive export
    written = output_path(export_options.output, loaded.reference)
    with eval_mode_kept(loaded.module) as training, removed_on_user_error(written):
        if export_step(ctx, example_inputs, training) and ctx.onnx_path is not None:
            verify_file(ctx, ctx.onnx_path)
        generation_step(ctx)
    return finish(ctx)


@_model_code_guarded
def verify(
    model: Any,
    onnx_path: str | Path,
    example_inputs: Sequence[Any] | Mapping[str, Any] | None = None,
    *,
    inputs: Sequence[str] | Mapping[str, str] | None = None,
    weights: str | Path | None = None,
    **keywords: Unpack[RunKeywords],
) -> RunReport:
    """Parity of an existing ONNX file against the eval-mode PyTorch model (keywords as ``run``,
    less the export ones)."""
    from onnxproof._paths import file_problem
    from onnxproof.options import DataOptions, VerifyOptions, split_keywords
    from onnxproof.pipeline._context import RunContext, prepare
    from onnxproof.pipeline._export import eval_mode_kept
    from onnxproof.pipeline._verdict import finish
    from onnxproof.pipeline._verify import check_tolerance_names, open_data_step

    _, verify_options, data_options = split_keywords(keywords, (VerifyOptions, DataOptions))
    _check_cheap(verify_options, data_options)
    if data_options.task == "text-generation-with-past":
        raise UsageError(
            "verify checks the file it is given; the decoder's step model (with its cache) is "
            "exported and decoded step by step by run",
            hint="onnxproof run MODEL --task text-generation-with-past",
        )
    problem = file_problem(Path(onnx_path), "ONNX file")
    if problem is not None:
        raise UsageError(problem, hint="pass the .onnx file to verify")
    check_tolerance_names(verify_options, onnx_path)  # before the model loads
    loaded, specs = prepare(model, example_inputs, inputs, weights)
    ctx = RunContext(loaded, specs, verify_options=verify_options, data_options=data_options)
    open_data_step(ctx)
    with eval_mode_kept(loaded.module):
        verify_file(ctx, str(onnx_path))
    if loaded.built_here and weights is None and any(True for _ in loaded.module.parameters()):
        from onnxproof.linting._base import make_finding

        message = (
            f"{loaded.reference} was built with fresh random weights to compare with {onnx_path}"
        )
        ctx.findings.append(make_finding("fresh-weights", message))
    return finish(ctx)


def _check_cheap(options: VerifyOptions, data: DataOptions | None = None) -> None:
    """What can be refused before any work: the seed, a repro folder that is not ours, a
    number of generation steps that would compare nothing."""
    from onnxproof.data.synthetic import check_seed
    from onnxproof.pipeline._preflight import check_runtime_names
    from onnxproof.report.repro import check_repro_target

    check_seed(options.seed)
    check_runtime_names(options.runtimes)
    if isinstance(options.repro, str | Path):
        check_repro_target(options.repro)
    if options.save_inputs is not None:
        from onnxproof.data.replay import check_save_target

        check_save_target(options.save_inputs, data=data.data if data is not None else None)
    steps = data.generation_steps if data is not None else 1
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise UsageError(
            f"generation_steps must be a whole number >= 1, not {steps!r}",
            hint="decode at least one step (the default is 8)",
        )


def verify_file(ctx: RunContext, path: str) -> None:
    """Check the file, then parity, determinism, data and localization on one pair of sessions."""
    from onnxproof.pipeline._fits import check_inputs_fit, check_outputs_fit
    from onnxproof.pipeline._masked import masked_rows_step
    from onnxproof.pipeline._repro import repro_step
    from onnxproof.pipeline._verify import (
        check_step,
        data_step,
        determinism_step,
        localize_step,
        opened,
        parity_step,
    )

    check_step(ctx, path)
    given = ctx.export is None  # verify: a file made elsewhere, which may not fit the model
    if given and ctx.check is not None and ctx.check.info is not None:
        check_inputs_fit(ctx.specs, ctx.check.info.inputs, path)
    with opened(ctx, path) as sessions:
        if given:
            check_outputs_fit(ctx, sessions, path)
        parity_step(ctx, sessions)
        masked_rows_step(ctx, sessions)
        determinism_step(ctx, sessions)
        data_step(ctx, sessions)
        localize_step(ctx, sessions, path)
        repro_step(ctx, sessions)


@_model_code_guarded
def bench(*args: Any, **kwargs: Any) -> Any:
    """Latency per runtime and batch size beside each runtime's verdict (``_bench.bench``)."""
    from onnxproof.pipeline._bench import bench as timed

    return timed(*args, **kwargs)


@_model_code_guarded
def optimize(*args: Any, **kwargs: Any) -> Any:
    """Variants of a float ONNX file, each verified before it is written (``_optimize.optimize``)."""
    from onnxproof.pipeline._optimize import optimize as optimized

    return optimized(*args, **kwargs)
