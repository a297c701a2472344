"""Export a loaded model to ONNX through the strategy chain, recording every attempt.

The record holds what the lint stage needs (attempts, warnings, opsets); findings are its job.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnx
import torch

from onnxproof._signals import raise_if_interrupted
from onnxproof._version import __version__
from onnxproof.binding import Binding, bind_inputs, in_binding_order
from onnxproof.errors import ExportError
from onnxproof.exporting._capture import capture_console
from onnxproof.exporting._dryrun import dry_run
from onnxproof.exporting._messages import describe
from onnxproof.exporting._modes import eval_mode, training_submodules
from onnxproof.exporting._naming import distinct_output_names
from onnxproof.exporting._strategies import (
    EXPORTER_CHOICES,
    STRATEGIES,
    AttemptOutcome,
    ExportRequest,
    OpsetAboveRequestError,
    strategies_for,
)
from onnxproof.exporting._write import finalize
from onnxproof.results import ExportAttempt, ExportResult, ExportWarning
from onnxproof.runtimes.torch_eager import flatten_outputs, to_tensor
from onnxproof.specs import DEFAULT_OPSET, TensorSpec

log = logging.getLogger(__name__)


def export_model(
    module: torch.nn.Module,
    specs: tuple[TensorSpec, ...],
    output: str | Path,
    *,
    args: tuple[Any, ...],
    reference: str = "<module>",
    exporter: str = "auto",
    opset: int = DEFAULT_OPSET,
    verbose: bool = False,
    training_modules: tuple[str, ...] | None = None,
    exported_program: Any = None,
) -> ExportResult:
    """Export ``module`` in eval mode under no_grad to ``output``; raise ExportError if impossible.

    ``args`` are the example inputs in ``specs`` order; they reach the forward as
    ``binding.bind_inputs`` says (by parameter name when the specs are named after parameters),
    and the file's inputs take the forward's order.
    """
    if exporter not in EXPORTER_CHOICES:
        raise ExportError(
            f"unknown exporter {exporter!r}", hint=f"use {'|'.join(EXPORTER_CHOICES)}"
        )
    start = time.perf_counter()
    if training_modules is None:
        training_modules = training_submodules(module)
    destination = Path(output)
    binding = (
        bind_inputs(module, [s.name for s in specs])
        if exported_program is None
        else Binding(positional=tuple(s.name for s in specs))
    )
    positional, keywords = tuple(args), dict[str, Any]()
    if binding.by_name:
        positional, keywords = binding.split(dict(zip((s.name for s in specs), args, strict=True)))
        specs = in_binding_order(specs, binding)
    with eval_mode(module), torch.no_grad():
        example_out = dry_run(module, positional, specs, keywords)
        output_names = _output_names(specs, example_out)
        request = ExportRequest(
            module=module,
            args=positional,
            kwargs=keywords,
            binding=binding,
            specs=specs,
            output_names=output_names,
            opset=opset,
            exported_program=exported_program,
        )
        with tempfile.TemporaryDirectory(prefix="onnxproof-") as workdir:
            chain = _run_chain(request, exporter, verbose, Path(workdir))
            success = chain.success
            model = onnx.load(str(success.path))
            written = _default_opset(model)
            metadata = {
                "onnxproof.version": __version__,
                "onnxproof.torch_version": torch.__version__,
                "onnxproof.exporter": success.strategy,
                "onnxproof.opset_requested": str(opset),
                "onnxproof.opset": str(written),
                "onnxproof.inputs": "; ".join(str(s) for s in specs),
                "onnxproof.model": reference,
            }
            data_file = finalize(model, metadata, destination)
    if written != opset:
        log.warning(
            "asked for opset %d, the %s exporter wrote %d", opset, success.strategy, written
        )
    return ExportResult(
        onnx_path=str(destination),
        exporter=success.strategy,
        attempts=chain.attempts,
        opset_requested=opset,
        opset_written=written,
        external_data_file=data_file,
        input_specs=tuple(str(s) for s in specs),
        output_names=output_names,
        training_modules=training_modules,
        findings=(),
        log=chain.log,
        seconds=time.perf_counter() - start,
        warnings=chain.warnings,
        dim_ranges=chain.success.dim_ranges,
    )


@dataclass(frozen=True)
class _Chain:
    """What the strategy chain did: every attempt, the one that wrote a file, what it said."""

    attempts: tuple[ExportAttempt, ...]
    success: AttemptOutcome
    log: tuple[str, ...]
    warnings: tuple[ExportWarning, ...]


def _run_chain(request: ExportRequest, exporter: str, verbose: bool, workdir: Path) -> _Chain:
    """Try each strategy in order until one writes a file; raise ExportError when none does."""
    outcomes: list[AttemptOutcome] = []
    log_lines: list[str] = []
    warnings_seen: list[Any] = []
    chain = strategies_for(exporter)
    kept: tuple[int, AttemptOutcome, list[Any]] | None = None
    for strategy in chain:
        with capture_console(enabled=not verbose) as captured:
            outcome = strategy.attempt(request, workdir / f"{strategy.name}.onnx")
        # An exporter may catch a Ctrl-C and go on to its own fallback: stop here.
        raise_if_interrupted()
        log_lines += [f"[{strategy.name}] {line}" for line in captured.lines]
        above = _opset_above_request(outcome, request.opset)
        if above is not None and strategy is not chain[-1] and kept is None:
            # A file above the opset asked for is refused where that opset is the limit: the
            # next strategy may write the opset itself. This one stays in reserve.
            kept = (len(outcomes), outcome, captured.warnings)
            outcomes.append(dataclasses.replace(outcome, path=None, error=above))
            continue
        outcomes.append(outcome)
        if outcome.path is not None:
            warnings_seen = captured.warnings
            break
    if kept is not None and all(o.path is None for o in outcomes):
        index, outcome, warnings_seen = kept
        outcomes[index] = outcome
    attempts = tuple(_attempt_record(o) for o in outcomes)
    success = next((o for o in outcomes if o.path is not None), None)
    if success is None:
        error = _export_error(outcomes, request.opset, attempts)
        error.log = tuple(log_lines)
        raise error
    warnings = tuple(
        ExportWarning(
            category=w.category.__name__,
            message=str(w.message),
            location=f"{w.filename}:{w.lineno}",
        )
        for w in warnings_seen
    )
    return _Chain(attempts=attempts, success=success, log=tuple(log_lines), warnings=warnings)


def _output_names(specs: tuple[TensorSpec, ...], example_out: Any) -> tuple[str, ...]:
    """The ONNX output names for the forward's tensor outputs; none is an ExportError."""
    names = distinct_output_names(
        [s.name for s in specs],
        [n for n, value in flatten_outputs(example_out) if isinstance(value, torch.Tensor)],
    )
    if not names:
        # Nothing to export: the exporters would write a graph with no outputs, or fail
        # somewhere deep; say what the forward gave instead.
        raise ExportError(
            f"the model's forward returned {_describe(example_out)}: no tensor to export",
            hint="return the tensor(s) the deployed model must compute",
        )
    return tuple(names)


def _describe(value: Any) -> str:
    if value is None:
        return "None"
    text = repr(value)
    return f"a {type(value).__name__} ({text[:60]}{'…' if len(text) > 60 else ''})"


def example_args(specs: tuple[TensorSpec, ...], feeds: dict[str, Any]) -> tuple[torch.Tensor, ...]:
    """Positional tensors for the exporters, in spec order."""
    return tuple(to_tensor(feeds[s.name]) for s in specs)


def _attempt_record(outcome: AttemptOutcome) -> ExportAttempt:
    failure = None if outcome.error is None else describe(outcome.error)
    return ExportAttempt(
        strategy=outcome.strategy,
        ok=outcome.path is not None,
        seconds=round(outcome.seconds, 3),
        error=failure.summary if failure else None,
        detail=failure.detail if failure else None,
        data_dependent=bool(failure and failure.data_dependent),
        location=failure.location if failure else None,
    )


def _opset_above_request(outcome: AttemptOutcome, opset: int) -> OpsetAboveRequestError | None:
    if outcome.path is None:
        return None
    written = _default_opset(onnx.load(str(outcome.path), load_external_data=False))
    if written <= opset:
        return None
    return OpsetAboveRequestError(
        f"wrote opset {written} where {opset} was asked for (it could not convert the file down)"
    )


def _default_opset(model: onnx.ModelProto) -> int:
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


def _export_error(
    outcomes: list[AttemptOutcome], opset: int, attempts: tuple[ExportAttempt, ...]
) -> ExportError:
    failures = [describe(o.error) for o in outcomes if o.error is not None]
    unsupported = next((f.unsupported_op for f in failures if f.unsupported_op), None)
    tried = "; ".join(f"{a.strategy}: {a.error}" for a in attempts)
    if unsupported:
        error = ExportError(
            f"operator {unsupported} cannot be converted to ONNX at opset {opset} ({tried})",
            hint=(
                "try the other exporter (--exporter dynamo|torchscript) or a higher --opset; or "
                "register a translation with onnxscript and pass it as "
                "torch.onnx.export(..., custom_translation_table={op: function})"
            ),
        )
    elif any(f.data_dependent for f in failures):
        error = ExportError(
            f"export failed on data-dependent control flow ({tried})",
            hint="replace the Python `if` on a tensor value with torch.where or torch.cond",
        )
    else:
        others = [
            n for n in (c.name for c in STRATEGIES) if n not in {a.strategy for a in attempts}
        ]
        hint = f"try --exporter {others[0]}" if others else "run with --debug for the full error"
        error = ExportError(f"every exporter failed ({tried})", hint=hint)
    error.attempts = attempts
    return error
