"""The library calls behind each command: export, check, verify and run (all three in one).

Heavy modules (torch, the exporters, runtimes) are imported inside the functions, so importing
onnxproof, ``onnxproof --help`` and ``onnxproof check`` stay free of torch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from onnxproof.errors import InputSpecError
from onnxproof.results import (
    CaseResult,
    CheckReport,
    ExportResult,
    Finding,
    Localization,
    ParityReport,
    RunReport,
    status_from,
)
from onnxproof.specs import DEFAULT_OPSET, Severity, TensorSpec, parse_input_specs

if TYPE_CHECKING:
    from onnxproof.verification.tolerance import TolerancePolicy

log = logging.getLogger(__name__)


def check(path: str | Path, *, targets: Sequence[str] = ()) -> CheckReport:
    """onnx.checker (full), shape inference, model info and lint findings (per target). No torch."""
    from onnxproof.checking import check_model

    return check_model(path, targets=targets)


def lint(path: str | Path, *, targets: Sequence[str] = ()) -> tuple[Finding, ...]:
    """The findings of the graph rules, and of the target rules for each target. No torch."""
    return check(path, targets=targets).findings


def export(
    model: Any = None,
    example_inputs: Sequence[Any] | None = None,
    *,
    inputs: Sequence[str] | None = None,
    output: str | Path | None = None,
    weights: str | Path | None = None,
    exporter: str = "auto",
    opset: int | None = None,
    verbose: bool = False,
) -> ExportResult:
    """Export ``model`` (an nn.Module or a reference such as ``net.py:Net``) to ONNX."""
    loaded, specs = _prepare(model, example_inputs, inputs, weights)
    chosen_opset, _ = choose_opset(opset, ())
    with _exported_in_eval(
        loaded, specs, output, example_inputs, exporter, chosen_opset, verbose
    ) as result:
        return result


def run(
    model: Any = None,
    example_inputs: Sequence[Any] | None = None,
    *,
    inputs: Sequence[str] | None = None,
    output: str | Path | None = None,
    weights: str | Path | None = None,
    exporter: str = "auto",
    opset: int | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    seed: int = 0,
    fail_on: Severity | str = Severity.ERROR,
    targets: Sequence[str] = (),
    localize: bool | None = None,
    data: Any = None,
    batch_size: int = 32,
    max_samples: int | None = None,
    task: str | None = None,
    image_spec: str | None = None,
    tolerances: dict[str, tuple[float, float]] | None = None,
    progress: Any = None,
    verbose: bool = False,
) -> RunReport:
    """Export, check and verify in one call; the model's training flags are restored after.

    ``localize``: None finds the first divergent module when an output fails; True always;
    False never. ``data``: a path (.npz, .npy, .pt, a folder of arrays or images) or any
    iterable of dicts or tuples of arrays/tensors (a DataLoader too), verified on top of the
    generated inputs. ``tolerances`` maps an output name to (atol, rtol). ``progress(n)`` is
    called after each batch of n samples.
    """
    from onnxproof.verification.tolerance import TolerancePolicy

    timings: dict[str, float] = {}
    start = time.perf_counter()
    loaded, specs = _prepare(model, example_inputs, inputs, weights)
    chosen_opset, opset_reason = choose_opset(opset, targets)
    log.info("opset %d: %s", chosen_opset, opset_reason)
    timings["load"] = time.perf_counter() - start
    with _exported_in_eval(
        loaded, specs, output, example_inputs, exporter, chosen_opset, verbose
    ) as exported:
        timings["export"] = exported.seconds
        report = _check_and_verify(
            loaded.module,
            exported.onnx_path,
            specs,
            reference=loaded.reference,
            exported=exported,
            policy=TolerancePolicy(atol=atol, rtol=rtol, per_output=dict(tolerances or {})),
            seed=seed,
            fail_on=Severity(fail_on),
            targets=targets,
            localize=localize,
            data=_DataRequest(data, batch_size, max_samples, task, image_spec, progress),
            timings=timings,
        )
        return dataclasses.replace(report, opset_reason=opset_reason)


def verify(
    model: Any,
    onnx_path: str | Path,
    example_inputs: Sequence[Any] | None = None,
    *,
    inputs: Sequence[str] | None = None,
    weights: str | Path | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    seed: int = 0,
    fail_on: Severity | str = Severity.ERROR,
    targets: Sequence[str] = (),
    localize: bool | None = None,
    data: Any = None,
    batch_size: int = 32,
    max_samples: int | None = None,
    task: str | None = None,
    image_spec: str | None = None,
    tolerances: dict[str, tuple[float, float]] | None = None,
    progress: Any = None,
) -> RunReport:
    """Parity of an existing ONNX file against the eval-mode PyTorch model (see ``run``)."""
    from onnxproof.exporting._modes import eval_mode
    from onnxproof.verification.tolerance import TolerancePolicy

    if not Path(onnx_path).is_file():
        raise InputSpecError(f"ONNX file {onnx_path} does not exist", hint="check the path")
    loaded, specs = _prepare(model, example_inputs, inputs, weights)
    with eval_mode(loaded.module):
        report = _check_and_verify(
            loaded.module,
            str(onnx_path),
            specs,
            reference=loaded.reference,
            exported=None,
            policy=TolerancePolicy(atol=atol, rtol=rtol, per_output=dict(tolerances or {})),
            seed=seed,
            fail_on=Severity(fail_on),
            targets=targets,
            localize=localize,
            data=_DataRequest(data, batch_size, max_samples, task, image_spec, progress),
            timings={},
        )
    if loaded.built_here and weights is None and _has_parameters(loaded.module):
        from onnxproof.linting._base import make_finding

        message = (
            f"{loaded.reference} was built with fresh random weights to compare with {onnx_path}"
        )
        findings = (*report.findings, make_finding("fresh-weights", message))
        report = dataclasses.replace(report, findings=findings)
    return report


def _has_parameters(module: Any) -> bool:
    return any(True for _ in module.parameters())


@contextlib.contextmanager
def _exported_in_eval(
    loaded: Any,
    specs: tuple[TensorSpec, ...],
    output: str | Path | None,
    example_inputs: Sequence[Any] | None,
    exporter: str,
    opset: int,
    verbose: bool,
) -> Iterator[ExportResult]:
    """Export in eval mode and stay in it for what follows (verification); flags restored after."""
    from onnxproof.exporting import export_model
    from onnxproof.exporting._modes import eval_mode, training_submodules

    training = training_submodules(loaded.module)
    with eval_mode(loaded.module):
        yield export_model(
            loaded.module,
            specs,
            _output_path(output, loaded.reference),
            args=_export_args(specs, example_inputs),
            reference=loaded.reference,
            exporter=exporter,
            opset=opset,
            verbose=verbose,
            training_modules=training,
            built_here=loaded.built_here,
            exported_program=loaded.exported_program,
        )


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


def _check_and_verify(
    module: Any,
    onnx_path: str,
    specs: tuple[TensorSpec, ...],
    *,
    reference: str,
    exported: ExportResult | None,
    policy: TolerancePolicy,
    seed: int,
    fail_on: Severity,
    targets: Sequence[str],
    localize: bool | None,
    data: _DataRequest,
    timings: dict[str, float],
) -> RunReport:
    import onnx

    from onnxproof import runtimes
    from onnxproof.checking import check_model
    from onnxproof.data import synthetic_cases
    from onnxproof.linting.parity_rules import (
        data_findings,
        nondeterminism_finding,
        parity_findings,
    )
    from onnxproof.runtimes.torch_eager import TorchEager
    from onnxproof.verification import verify_parity
    from onnxproof.verification.determinism import differing_outputs

    start = time.perf_counter()
    report = check_model(onnx_path, targets=targets, specs=specs)
    timings["check"] = time.perf_counter() - start
    info = report.info
    onnx_inputs = tuple(t.name for t in info.inputs) if info else ()
    onnx_outputs = tuple(t.name for t in info.outputs) if info else ()
    _match_inputs(specs, onnx_inputs, onnx_path)
    start = time.perf_counter()
    ort = runtimes.get("onnxruntime")
    reference_session = TorchEager(module, onnx_inputs, onnx_outputs).load(onnx_path)
    determinism: list[Finding] = []
    try:
        candidate = ort.load(onnx_path)
    except Exception as exc:
        parity = _unloadable(ort.name, policy, exc)
    else:
        parity = verify_parity(
            reference_session,
            candidate,
            synthetic_cases(specs, seed=seed),
            specs=specs,
            policy=policy,
            runtime=ort.name,
        )
        first = next(iter(synthetic_cases(specs, seed=seed, draws=("normal",))))
        for name, session in ((ort.name, candidate), ("eval-mode PyTorch", reference_session)):
            differing = differing_outputs(session, first.feeds)
            if differing:
                determinism.append(nondeterminism_finding(name, differing))
    timings["verify"] = time.perf_counter() - start
    dataset = None
    if data.source is not None and parity.cases and parity.cases[0].index >= 0:
        start = time.perf_counter()
        dataset = _verify_data(data, specs, reference_session, candidate, policy, ort.name)
        timings["data"] = time.perf_counter() - start
    # Only a failed parity reads the graph (to name nodes holding a baked size): skip the load else.
    graph = None if parity.passed else onnx.load(onnx_path, load_external_data=False)
    localization = None
    chosen = _feeds_to_localize(parity, dataset, localize, specs, seed)
    if chosen is not None:
        start = time.perf_counter()
        localization = _localize(onnx_path, chosen[1], chosen[0], reference_session, ort, policy)
        timings["localize"] = time.perf_counter() - start
    findings = (exported.findings if exported else ()) + report.findings
    findings += _spec_findings(specs) + parity_findings(parity, graph) + tuple(determinism)
    if dataset is not None:
        findings += data_findings(dataset.report)
    checks_passed = report.passed and parity.passed and (dataset is None or dataset.report.passed)
    metadata = info.metadata if info else {}
    return RunReport(
        status=status_from(findings, checks_passed=checks_passed, fail_on=fail_on),
        model=reference,
        onnx_path=onnx_path,
        exporter=exported.exporter if exported else metadata.get("onnxproof.exporter"),
        export_attempts=exported.attempts if exported else (),
        opset=info.opset_imports.get("ai.onnx") if info else None,
        opset_requested=exported.opset_requested if exported else None,
        inputs=info.inputs if info else (),
        outputs=info.outputs if info else (),
        findings=findings,
        verification=parity,
        check=report,
        external_data_file=exported.external_data_file if exported else None,
        data=dataset.report if dataset is not None else None,
        localization=localization,
        timings={k: round(v, 3) for k, v in timings.items()},
        log=exported.log if exported else (),
    )


@dataclass(frozen=True)
class _DataRequest:
    """Representative data to verify on, and how to read it."""

    source: Any
    batch_size: int
    max_samples: int | None
    task: str | None
    image_spec: str | None
    progress: Any


def _verify_data(
    data: _DataRequest,
    specs: tuple[TensorSpec, ...],
    reference_session: Any,
    candidate: Any,
    policy: TolerancePolicy,
    runtime: str,
) -> Any:
    from onnxproof.data.files import ImageSpec, iter_batches, open_data
    from onnxproof.verification.dataset import TASK_TOPK, verify_dataset

    if data.task is not None and data.task not in TASK_TOPK:
        raise InputSpecError(
            f"unknown task {data.task!r}", hint=f"use one of {', '.join(TASK_TOPK)}"
        )
    if isinstance(data.source, str | Path):
        image_spec = ImageSpec.parse(data.image_spec) if data.image_spec else None
        described, batches = open_data(
            data.source,
            specs,
            batch_size=data.batch_size,
            max_samples=data.max_samples,
            image_spec=image_spec,
        )
        source = described.description
    else:
        batches = iter_batches(
            data.source, specs, batch_size=data.batch_size, max_samples=data.max_samples
        )
        source = f"{type(data.source).__name__} (Python iterable)"
    return verify_dataset(
        reference_session,
        candidate,
        batches,
        source=source,
        specs=specs,
        policy=policy,
        runtime=runtime,
        task=data.task,
        progress=data.progress,
    )


def _feeds_to_localize(
    parity: ParityReport,
    dataset: Any,
    localize: bool | None,
    specs: tuple[TensorSpec, ...],
    seed: int,
) -> tuple[str, dict[str, Any]] | None:
    """Inputs to localize on: the first generated case whose outputs disagreed, else the first
    disagreeing data batch; case 0 when asked to localize regardless."""
    from onnxproof.data import synthetic_cases

    if localize is False:
        return None
    index = next((c.index for c in parity.cases if c.failed_outputs and c.index >= 0), None)
    if index is None and dataset is not None and dataset.failing_batch is not None:
        return "the first data batch that disagreed", dataset.failing_batch
    if index is None and not localize:
        return None
    case = next(c for c in synthetic_cases(specs, seed=seed) if c.index == (index or 0))
    sizes = ", ".join(f"{k}={v}" for k, v in case.sizes.items())
    return f"case {case.index} ({sizes or 'static'}, {case.draw})", case.feeds


def _localize(
    onnx_path: str,
    feeds: dict[str, Any],
    label: str,
    reference_session: Any,
    ort: Any,
    policy: TolerancePolicy,
) -> Localization:
    import onnx

    from onnxproof.verification.localize import localize

    full = onnx.load(onnx_path)  # with its weights: the instrumented copy must run
    return localize(
        full,
        reference_session.module_outputs(feeds),
        lambda path: ort.load(path).infer(feeds),
        policy=policy,
        case=label,
    )


def _match_inputs(specs: tuple[TensorSpec, ...], onnx_inputs: tuple[str, ...], path: str) -> None:
    names = tuple(s.name for s in specs)
    if names != onnx_inputs:
        raise InputSpecError(
            f"the input specs name {list(names)} but {path} has inputs {list(onnx_inputs)}",
            hint="give one --input per ONNX input, named as in the file, in forward-argument order",
        )


def _unloadable(runtime: str, policy: TolerancePolicy, exc: BaseException) -> ParityReport:
    atol, rtol = policy.headline()
    case = CaseResult(
        index=-1,
        sizes={},
        draw="",
        passed=False,
        error=f"{runtime} could not load the model: {str(exc).splitlines()[0][:300]}",
    )
    return ParityReport(
        runtime=runtime,
        reference="torch",
        passed=False,
        atol=atol,
        rtol=rtol,
        cases=(case,),
        outputs=(),
    )


def _spec_findings(specs: tuple[TensorSpec, ...]) -> tuple[Finding, ...]:
    from onnxproof.linting._base import make_finding

    return tuple(
        make_finding(
            "default-int-range", f"input {s.name!r} ({s}) has no value range; generated 0..9"
        )
        for s in specs
        if s.is_integer and s.value_range is None
    )


def _prepare(
    model: Any,
    example_inputs: Sequence[Any] | None,
    inputs: Sequence[str] | None,
    weights: str | Path | None,
) -> tuple[Any, tuple[TensorSpec, ...]]:
    from onnxproof.exporting._specs import specs_from_example
    from onnxproof.loading import LoadedModel, load_model, load_weights

    if model is None or isinstance(model, str | Path):
        loaded = load_model(None if model is None else str(model), weights=weights)
    else:
        loaded = LoadedModel(module=model, reference=type(model).__name__)
        if weights is not None:
            load_weights(model, Path(weights))
    if inputs:
        specs = parse_input_specs(tuple(inputs))
    elif example_inputs is not None:
        specs = specs_from_example(tuple(example_inputs))
    elif loaded.declared_specs:
        specs = parse_input_specs(loaded.declared_specs)
    elif loaded.example_args is not None:
        specs = specs_from_example(loaded.example_args, program=loaded.exported_program)
    else:
        raise InputSpecError(
            f"no input specs for {loaded.reference}",
            hint="give --input 'name:dtype[batch,...]' for each forward argument, or set "
            "onnxproof_inputs on the model class",
        )
    return loaded, specs


def _export_args(
    specs: tuple[TensorSpec, ...], example_inputs: Sequence[Any] | None
) -> tuple[Any, ...]:
    from onnxproof.data import synthetic_cases
    from onnxproof.exporting import example_args

    if example_inputs is not None and all(
        tuple(getattr(t, "shape", ())) == s.example_shape
        for t, s in zip(example_inputs, specs, strict=False)
    ):
        return tuple(example_inputs)
    first = next(iter(synthetic_cases(specs, draws=("normal",))))
    return example_args(specs, first.feeds)


def _output_path(output: str | Path | None, reference: str) -> Path:
    if output is not None:
        return Path(output)
    name = reference.rpartition(":")[2] or Path(reference).stem
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", Path(name).stem).lower()
    return Path.cwd() / f"{snake or 'model'}.onnx"
