"""The export step: opset choice, eval mode, the strategy chain, and a failed export as a record."""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from onnxproof.errors import ExportError
from onnxproof.pipeline._context import RunContext
from onnxproof.results import ExportResult
from onnxproof.specs import DEFAULT_OPSET, TensorSpec


def choose_opset(requested: int | None, targets: Sequence[str]) -> tuple[int, str]:
    """The opset to ask the exporter for, and why: the user's, else 18 lowered to every target's
    maximum (the dynamo exporter translates at 18 and down-converts lower requests)."""
    if requested is not None:
        return requested, "asked for with --opset"
    from onnxproof.linting.targets import load_target

    limits = {name: load_target(name).max_opset for name in targets}
    known = {name: limit for name, limit in limits.items() if limit is not None}
    lowest = min(known.values(), default=DEFAULT_OPSET)
    if lowest >= DEFAULT_OPSET:
        within = (
            f"; every target accepts it ({', '.join(f'{n} <= {v}' for n, v in known.items())})"
            if known
            else ""
        )
        return DEFAULT_OPSET, f"default 18: what the dynamo exporter translates at{within}"
    limiting = ", ".join(n for n, v in known.items() if v == lowest)
    return lowest, f"lowered from 18 to {lowest}, the highest {limiting} accepts"


def opset_reason_after(reason: str, exporter: str | None) -> str:
    """The reason as it reads once the file exists: another exporter may have written it."""
    if exporter in (None, "dynamo") or not reason.startswith("default"):
        return reason
    return reason.replace(
        "what the dynamo exporter translates at",
        f"the dynamo exporter's own opset, kept when the {exporter} exporter wrote the file",
    )


@contextlib.contextmanager
def eval_mode_kept(module: Any) -> Iterator[tuple[str, ...]]:
    """Eval mode for everything that follows (export and verification); the caller's training
    flags, and a transformers model's cache setting, are put back after. Yields the submodules
    that were in training mode."""
    from onnxproof.exporting._modes import eval_mode, training_submodules
    from onnxproof.loading_hf import restore_cache

    training = training_submodules(module)
    try:
        with eval_mode(module):
            yield training
    finally:
        restore_cache(module)  # a transformers model's cache, turned off for the export


def export_step(
    ctx: RunContext,
    example_inputs: Sequence[Any] | Mapping[str, Any] | None,
    training: tuple[str, ...],
) -> bool:
    """Export to the output path; a model that cannot be exported is a failed step, not a raise."""
    from onnxproof.exporting import export_model
    from onnxproof.linting._base import make_finding

    options = ctx.export_options
    opset, reason = choose_opset(options.opset, ctx.verify_options.targets)
    ctx.opset_reason = reason
    with ctx.timed("export", "exporting"):
        try:
            ctx.export = export_model(
                ctx.loaded.module,
                ctx.specs,
                output_path(options.output, ctx.loaded.reference),
                args=export_args(ctx.specs, example_inputs),
                reference=ctx.loaded.reference,
                exporter=options.exporter,
                opset=opset,
                verbose=options.verbose,
                training_modules=training,
                exported_program=ctx.loaded.exported_program,
            )
        except ExportError as exc:
            ctx.export = failed_export(exc, opset, ctx.specs, training)
            ctx.findings.append(make_finding("export-failed", str(exc)))
            ctx.record("export", "fail", exc.message)
            return False
    ctx.export = with_findings(ctx.export, built_here=ctx.loaded.built_here)
    ctx.onnx_path = ctx.export.onnx_path
    ctx.opset_reason = opset_reason_after(reason, ctx.export.exporter)
    ctx.findings.extend(ctx.export.findings)
    ctx.record("export", "pass")
    return True


def with_findings(result: ExportResult, *, built_here: bool) -> ExportResult:
    """The export record with the lint stage's findings over it."""
    from onnxproof.linting.export_rules import export_findings

    return dataclasses.replace(result, findings=export_findings(result, built_here=built_here))


def failed_export(
    exc: ExportError, opset: int, specs: tuple[TensorSpec, ...], training: tuple[str, ...]
) -> ExportResult:
    """The record of an export that wrote nothing: every attempt and why it failed."""
    return ExportResult(
        onnx_path=None,
        exporter=None,
        attempts=tuple(exc.attempts),
        opset_requested=opset,
        opset_written=None,
        external_data_file=None,
        input_specs=tuple(str(s) for s in specs),
        output_names=(),
        training_modules=training,
        findings=(),
        log=tuple(getattr(exc, "log", ())),
        seconds=sum(a.seconds for a in exc.attempts),
    )


def export_args(
    specs: tuple[TensorSpec, ...], example_inputs: Sequence[Any] | Mapping[str, Any] | None
) -> tuple:
    """The example tensors in spec order: the caller's when they fit the specs, else generated."""
    from onnxproof.data import synthetic_cases
    from onnxproof.exporting import example_args

    if isinstance(example_inputs, Mapping):
        names = [s.name for s in specs]
        example_inputs = (
            [example_inputs[n] for n in names] if set(names) == set(example_inputs) else None
        )
    if example_inputs is not None and all(
        tuple(getattr(t, "shape", ())) == s.example_shape
        for t, s in zip(example_inputs, specs, strict=False)
    ):
        return tuple(example_inputs)
    first = next(iter(synthetic_cases(specs, draws=("normal",))))
    return example_args(specs, first.feeds)


def output_path(output: str | Path | None, reference: str) -> Path:
    """``-o`` as given, else the model's name in snake case in the current folder."""
    if output is not None:
        return Path(output)
    name = reference.rpartition(":")[2] or Path(reference).stem
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", Path(name).stem).lower()
    return Path.cwd() / f"{snake or 'model'}.onnx"
