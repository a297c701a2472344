"""The steps over an ONNX file: check, parity on generated cases, determinism, data, localization.

Both sides — the eval-mode PyTorch reference and the candidate runtime — come from
``runtimes.get``; a runtime that is missing or cannot load the file is a row that says why.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onnxproof.data.synthetic import DRAWS, Case
from onnxproof.errors import OnnxproofError, UsageError
from onnxproof.options import VerifyOptions
from onnxproof.pipeline._context import RunContext
from onnxproof.results import Localization, ParityReport, StepState
from onnxproof.runtimes import Session

log = logging.getLogger(__name__)

#: The runtime every file is verified on today.
CANDIDATE = "ort-cpu"


def check_step(ctx: RunContext, path: str) -> bool:
    """Checker, shape inference and graph lint; the file's inputs must be the specs' inputs."""
    from onnxproof.pipeline._lint import checked

    with ctx.timed("check", "checking the file"):
        ctx.check = checked(path, ctx.verify_options.targets, ctx.specs)
    ctx.onnx_path = path
    ctx.findings.extend(ctx.check.findings)
    ctx.record("check", "pass" if ctx.check.passed else "fail", ctx.check.checker_error or "")
    info = ctx.check.info
    names = tuple(s.name for s in ctx.specs)
    onnx_inputs = tuple(t.name for t in info.inputs) if info else ()
    if names != onnx_inputs:
        raise UsageError(
            f"the input specs name {list(names)} but {path} has inputs {list(onnx_inputs)}",
            hint="give one --input per ONNX input, named as in the file, in forward-argument order",
        )
    outputs = {t.name for t in info.outputs} if info else set()
    _refuse_unknown_tolerances(ctx.verify_options, outputs, path)
    return ctx.check.passed


def check_tolerance_names(options: VerifyOptions, path: str | Path) -> None:
    """``--tol`` names checked against an existing file's outputs before the model loads; a
    file that cannot be read is left to ``check_step`` to report."""
    if not options.tolerances:
        return
    import onnx

    try:
        graph = onnx.load(str(path), load_external_data=False).graph
    except Exception:
        return
    _refuse_unknown_tolerances(options, {o.name for o in graph.output}, path)


def _refuse_unknown_tolerances(options: VerifyOptions, outputs: set[str], path: str | Path) -> None:
    unknown = sorted(set(options.tolerances) - outputs)
    if unknown:
        raise UsageError(
            f"--tol names output(s) {unknown} that {path} does not have",
            hint=f"its outputs are {sorted(outputs)}",
        )


@dataclass
class Candidate:
    """One runtime under test; ``session`` is None when it is missing or rejected the file."""

    name: str
    runtime: Any = None
    session: Session | None = None
    #: Why there is no session: the runtime is missing (could not judge) ...
    missing: str | None = None
    #: ... or it rejected the file (the file does not run where it will be deployed).
    load_error: str | None = None

    @property
    def reason(self) -> str | None:
        return self.missing or self.load_error


@dataclass
class Sessions:
    """The PyTorch reference and every runtime under test; the first installed one is the
    primary (data and localization run there)."""

    reference: Session
    candidates: list[Candidate]

    @property
    def primary(self) -> Candidate:
        """The first runtime asked for that is installed here: a missing one cannot take the
        data or the localization, and skipping them would leave a PASS resting on less."""
        return next((c for c in self.candidates if c.missing is None), self.candidates[0])


@contextlib.contextmanager
def opened(ctx: RunContext, path: str) -> Iterator[Sessions]:
    """Open the reference and each runtime through the registry; close them all after."""
    from onnxproof import runtimes

    info = ctx.check.info if ctx.check else None
    reference_runtime = runtimes.get(
        "torch",
        module=ctx.loaded.module,
        input_names=tuple(t.name for t in info.inputs) if info else (),
        output_names=tuple(t.name for t in info.outputs) if info else (),
    )
    with contextlib.ExitStack() as stack:
        reference = stack.enter_context(reference_runtime.load(path))
        candidates = []
        for name in runtimes_to_verify(ctx.verify_options):
            candidate = _open_candidate(name, path)
            if candidate.session is not None:
                stack.enter_context(candidate.session)
            candidates.append(candidate)
        yield Sessions(reference, candidates)


#: The runtime each deployment target runs on, verified when ``--target`` names it and the
#: runtime is installed (targets without one here are linted only).
TARGET_RUNTIMES = {
    "ort-cpu": "ort-cpu",
    "ort-web": "ort-web",
    "openvino": "openvino",
    "tensorrt": "ort-tensorrt",
}


def runtimes_to_verify(options: VerifyOptions) -> list[str]:
    """The runtimes asked for, then each target's own runtime when it is installed here."""
    from onnxproof import runtimes

    names = list(dict.fromkeys(options.runtimes))
    module_side = [n for n in names if n in runtimes.MODULE_RUNTIMES]
    if module_side:
        raise UsageError(
            f"runtime {module_side[0]!r} runs the PyTorch model, not the ONNX file: it is the "
            "reference side, not a runtime to verify",
            hint="time it beside the others with: onnxproof bench MODEL --runtime torch-compile",
        )
    for target in options.targets:
        implied = TARGET_RUNTIMES.get(target)
        if implied is None or implied in names or implied not in runtimes.REGISTRY:
            continue
        try:
            available = runtimes.runtime_class(implied).availability().available
        except OnnxproofError:
            available = False
        if available:
            names.append(implied)
    return names


def _open_candidate(name: str, path: str) -> Candidate:
    from onnxproof import runtimes
    from onnxproof.verification._explain import explain_load_error

    try:
        runtime = runtimes.get(name)
    except OnnxproofError as exc:
        return Candidate(name, missing=str(exc))
    try:
        return Candidate(name, runtime, runtime.load(path))
    except OnnxproofError as exc:  # it cannot run here after all (a provider fell back)
        return Candidate(name, runtime, missing=str(exc))
    except runtimes.RuntimeCrashed as exc:  # the runtime itself died, not the file's fault
        return Candidate(name, runtime, missing=str(exc))
    except Exception as exc:  # the runtime rejects the file: a row, not a crash
        reason = f"{name} could not load the model: {explain_load_error(str(exc))}"
        return Candidate(name, runtime, load_error=reason)


def parity_step(ctx: RunContext, sessions: Sessions) -> None:
    """Every generated case through the reference and each runtime; the cases are saved first
    when asked."""
    from onnxproof.data import synthetic_cases
    from onnxproof.linting._base import make_finding
    from onnxproof.linting.runtime_rules import precision_findings
    from onnxproof.verification import verify_parity
    from onnxproof.verification.padded_positions import declared_dims

    options = ctx.verify_options
    if options.save_inputs is not None:
        from onnxproof.data.replay import save_cases

        save_cases(
            synthetic_cases(ctx.specs, seed=options.seed, sizes=ctx.case_sizes),
            Path(options.save_inputs),
        )
    reports = []
    for candidate in sessions.candidates:
        if candidate.load_error is not None:
            ctx.findings.append(make_finding("runtime-failure", candidate.load_error))
        with ctx.timed("verify", f"verifying generated cases on {candidate.name}"):
            if candidate.session is None:
                reports.append(unavailable(candidate, ctx))
                continue
            cases, capped = capped_cases(
                synthetic_cases(ctx.specs, seed=options.seed, sizes=ctx.case_sizes),
                candidate.session.case_limit,
            )
            report = verify_parity(
                sessions.reference,
                candidate.session,
                cases,
                specs=ctx.specs,
                policy=ctx.policy,
                runtime=candidate.name,
                output_dims=declared_dims(ctx.check),
            )
            details = {**candidate.session.details(), **capped}
            reports.append(dataclasses.replace(report, details=details))
            # The precision a runtime chose by itself (OpenVINO's bf16) says why it differs.
            ctx.findings.extend(precision_findings(candidate.name, details))
    ctx.runtime_reports = reports
    ctx.parity = reports[sessions.candidates.index(sessions.primary)]
    state, detail = parity_state(reports)
    ctx.record("parity", state, detail)


def capped_cases(cases: Iterable[Case], limit: int | None) -> tuple[Iterable[Case], dict[str, str]]:
    """A slow runtime's share of the cases: the first draw at each size, at most ``limit``. The
    cases keep their index, so their arrays are the ones every other runtime got."""
    if limit is None:
        return cases, {}
    first = DRAWS[0]
    chosen = itertools.islice((c for c in cases if c.draw == first), limit)
    return chosen, {"cases": f"capped: the {first!r} draw at each size, at most {limit} cases"}


def parity_state(reports: list[ParityReport]) -> tuple[StepState, str]:
    """Fail when any runtime ran and disagreed (or rejected the file); could not judge only
    when no runtime could."""
    failed = [
        r.load_error or _disagreement(r)
        for r in reports
        if r.load_error or (r.available and not r.passed)
    ]
    judged = [r for r in reports if r.available and r.passed and r.compared_elements]
    missing = [f"{r.runtime}: {r.unavailable_reason}" for r in reports if not r.available]
    if failed:
        return "fail", "; ".join(failed)
    if judged:
        return "pass", "; ".join(f"not run on {m}" for m in missing)
    if missing:
        return "error", "; ".join(missing)
    return "error", "nothing was compared: every output had 0 elements in every case"


def _disagreement(report: ParityReport) -> str:
    failing = [o for o in report.outputs if not o.passed]
    if failing and all(o.reference_all_nonfinite for o in failing):
        return f"{report.runtime}: nothing compared, {report.reference} gave NaN/inf everywhere"
    return f"{report.runtime} disagrees with {report.reference}"


def unavailable(candidate: Candidate, ctx: RunContext) -> ParityReport:
    """The row of a runtime that ran nothing: missing (could not judge) or rejecting the file."""
    atol, rtol = ctx.policy.headline()
    return ParityReport(
        runtime=candidate.name,
        reference="torch",
        passed=False,
        atol=atol,
        rtol=rtol,
        cases=(),
        outputs=(),
        available=candidate.missing is None,
        unavailable_reason=candidate.missing,
        load_error=candidate.load_error,
    )


def determinism_step(ctx: RunContext, sessions: Sessions) -> None:
    """The first case twice through each side: values that change point at a stochastic op."""
    from onnxproof.data import synthetic_cases
    from onnxproof.linting.parity_rules import nondeterminism_finding
    from onnxproof.verification.determinism import differing_outputs

    primary = sessions.primary
    if primary.session is None or ctx.parity is None or not ctx.parity.cases:
        return
    first = next(iter(synthetic_cases(ctx.specs, seed=ctx.verify_options.seed, draws=("normal",))))
    named = ((primary.name, primary.session), ("eval-mode PyTorch", sessions.reference))
    with ctx.timed("verify", "repeating the first case"):
        for name, session in named:
            try:
                differing = differing_outputs(session, first.feeds)
            except Exception as exc:  # parity already reported this case's failure
                log.info("determinism check skipped for %s: %s", name, exc)
                continue
            if differing:
                ctx.findings.append(nondeterminism_finding(name, differing))


def open_data_step(ctx: RunContext) -> None:
    """Open the representative data before any expensive work, so bad data fails fast."""
    from onnxproof.data.files import (
        ImageSpec,
        check_image_spec_applies,
        iter_batches,
        open_data,
        probe,
    )
    from onnxproof.engines import ENGINES
    from onnxproof.pipeline._generation import GENERATION_TASKS
    from onnxproof.verification.dataset import TASK_TOPK

    options = ctx.data_options
    tasks = (*TASK_TOPK, *GENERATION_TASKS)
    if options.task is not None and options.task not in tasks:
        raise UsageError(f"unknown task {options.task!r}", hint=f"use one of {', '.join(tasks)}")
    if options.engine not in ENGINES:
        raise UsageError(f"unknown engine {options.engine!r}", hint=f"use {' or '.join(ENGINES)}")
    if options.data is None:
        return
    if options.image_spec is not None:
        check_image_spec_applies(options.data)
    if options.engine == "ray":
        from onnxproof.engines.ray import prepare

        plan = prepare(
            options.data, ctx.specs, batch_size=options.batch_size, max_samples=options.max_samples
        )
        ctx.data_batches = (plan.description, plan.samples, plan)
    elif isinstance(options.data, str | Path):
        image_spec = ImageSpec.parse(options.image_spec) if options.image_spec else None
        # The first batch read now: empty or damaged data is exit 2 before any export.
        probe(
            options.data,
            ctx.specs,
            batch_size=options.batch_size,
            max_samples=options.max_samples,
            image_spec=image_spec,
        )
        described, batches = open_data(
            options.data,
            ctx.specs,
            batch_size=options.batch_size,
            max_samples=options.max_samples,
            image_spec=image_spec,
        )
        ctx.data_batches = (described.description, described.samples, batches)
    else:
        batches = iter_batches(
            options.data, ctx.specs, batch_size=options.batch_size, max_samples=options.max_samples
        )
        source = f"{type(options.data).__name__} (Python iterable)"
        ctx.data_batches = (source, None, batches)


def data_step(ctx: RunContext, sessions: Sessions) -> None:
    """Stream the data through both sides, after the generated cases."""
    from onnxproof.linting.parity_rules import data_findings
    from onnxproof.verification.dataset import verify_dataset
    from onnxproof.verification.padded_positions import declared_dims

    primary = sessions.primary
    if ctx.data_batches is None or primary.session is None:
        if ctx.data_options.data is not None:
            ctx.record("data", "not-run", primary.reason or "the file did not load")
        return
    source, total, batches = ctx.data_batches
    report_progress = ctx.data_options.progress

    def progress(samples: int) -> None:
        if report_progress is not None:
            report_progress(samples, total)

    with ctx.timed("data", "verifying the data"):
        if ctx.data_options.engine == "ray":  # the workers read the data themselves
            ctx.dataset = _ray_dataset(ctx, batches, primary.name, progress)
        else:
            ctx.dataset = verify_dataset(
                sessions.reference,
                primary.session,
                batches,
                source=source,
                specs=ctx.specs,
                policy=ctx.policy,
                runtime=primary.name,
                task=ctx.data_options.task,
                progress=progress,
                output_dims=declared_dims(ctx.check),
            )
    report = dataclasses.replace(ctx.dataset.report, runtime=primary.name)
    ctx.dataset = dataclasses.replace(ctx.dataset, report=report)
    ctx.findings.extend(data_findings(report))
    if report.samples == 0:
        ctx.record("data", "error", f"{source} held no samples: nothing was compared")
    else:
        ctx.record("data", "pass" if report.passed else "fail")


def _ray_dataset(ctx: RunContext, plan: Any, runtime: str, progress: Any) -> Any:
    """The data compared on Ray's workers (the shard plan made before the export), each
    rebuilding the model and opening the file."""
    from onnxproof.engines.ray import recipe_for, verify_dataset_ray
    from onnxproof.verification.padded_positions import declared_dims

    options, info = ctx.data_options, ctx.check.info if ctx.check else None
    assert ctx.onnx_path is not None  # check_step ran: the data step follows it
    return verify_dataset_ray(
        model=recipe_for(ctx.loaded),
        onnx_path=ctx.onnx_path,
        data=options.data,
        plan=plan,
        specs=ctx.specs,
        output_names=tuple(t.name for t in info.outputs) if info else (),
        policy=ctx.policy,
        runtime=runtime,
        task=options.task,
        batch_size=options.batch_size,
        max_samples=options.max_samples,
        workers=options.workers,
        address=options.ray_address,
        progress=progress,
        output_dims=declared_dims(ctx.check),
    )


def localize_step(ctx: RunContext, sessions: Sessions, path: str) -> None:
    """The first divergent module, on the first case (or data batch) that disagreed."""
    import onnx

    from onnxproof.verification.localize import localize, unreproduced

    chosen = feeds_to_localize(ctx)
    if chosen is None or sessions.primary.session is None:
        return
    label, feeds = chosen
    runtime = sessions.primary.runtime
    with ctx.timed("localize", "localizing the divergence"):
        full = onnx.load(path)  # with its weights: the instrumented copy must run
        try:
            torch_modules = sessions.reference.module_outputs(feeds)  # type: ignore[attr-defined]
        except Exception as exc:  # a diagnosis: the verdict stands without it
            first = (str(exc).strip().splitlines() or [""])[0]
            log.info("localization: the hooked PyTorch run raised", exc_info=True)
            ctx.localization = Localization(
                case=label,
                first_divergent_module=None,
                module_type=None,
                onnx_nodes=(),
                error=None,
                trail=(),
                unmatched_modules=(),
                unreproduced=(
                    f"PyTorch raised when run with module hooks on ({type(exc).__name__}: "
                    f"{first[:200]}), so no module could be compared"
                ),
            )
            ctx.record("localize", "not-run", "the hooked PyTorch run raised")
            return
        ctx.localization = localize(
            full,
            torch_modules,
            lambda instrumented: _run_once(runtime, instrumented, feeds),
            policy=ctx.policy,
            case=label,
        )
        ctx.module_case = _module_case(ctx, full, torch_modules, feeds, runtime)
        if ctx.localization.first_divergent_module is None and _failure_seen(ctx):
            why = unreproduced(ctx.policy, sessions.reference.infer(feeds), torch_modules)
            ctx.localization = dataclasses.replace(ctx.localization, unreproduced=why)
    found = ctx.localization.first_divergent_module
    if ctx.localization.unreproduced:
        ctx.record("localize", "not-run", "the failure did not reproduce")
    else:
        ctx.record("localize", "fail" if found else "pass", found or "")


def _failure_seen(ctx: RunContext) -> bool:
    """Whether the localized feeds are a case or data batch that failed (not case 0 localized
    on request after a pass)."""
    parity, dataset = ctx.parity, ctx.dataset
    failed_case = parity is not None and any(
        c.failed_outputs and c.index >= 0 for c in parity.cases
    )
    return failed_case or (dataset is not None and dataset.failing_batch is not None)


def _module_case(
    ctx: RunContext, full: Any, torch_modules: list[Any], feeds: dict[str, Any], runtime: Any
) -> Any:
    """The first divergent module's own inputs and output, for the repro bundle's sub-graph."""
    from onnxproof.report.repro import record_module

    found = ctx.localization.first_divergent_module if ctx.localization else None
    if found is None or ctx.localization is None or ctx.verify_options.repro is False:
        return None
    call = next((c for c in torch_modules if c.path == found and c.outputs), None)
    if call is None:  # the root, or a module with no output of its own to replay
        return None
    output = call.outputs[0][1]
    atol, rtol = ctx.policy.for_output(found, str(output.dtype))
    try:
        return record_module(
            full,
            ctx.localization,
            feeds,
            output,
            lambda instrumented: _run_once(runtime, instrumented, feeds),
            atol=atol,
            rtol=rtol,
        )
    except Exception as exc:  # the bundle is help, not a verdict: leave the sub-graph out
        log.info("module sub-graph for the repro bundle left out: %s", exc)
        return None


def _run_once(runtime: Any, path: str, feeds: dict[str, Any]) -> dict[str, Any]:
    with runtime.load(path) as session:
        return dict(session.infer(feeds))


def feeds_to_localize(ctx: RunContext) -> tuple[str, dict[str, Any]] | None:
    """The first generated case whose outputs disagreed, else the first disagreeing data batch;
    case 0 when asked to localize regardless."""
    from onnxproof.data import synthetic_cases

    localize, parity = ctx.verify_options.localize, ctx.parity
    if localize is False or parity is None:
        return None
    # index -1 is the fully masked row (pipeline._masked), not a generated case
    index = next((c.index for c in parity.cases if c.failed_outputs and c.index >= 0), None)
    dataset = ctx.dataset
    if index is None and dataset is not None and dataset.failing_batch is not None:
        return "the first data batch that disagreed", dataset.failing_batch
    if index is None and not localize:
        return None
    seed = ctx.verify_options.seed
    cases = synthetic_cases(ctx.specs, seed=seed, sizes=ctx.case_sizes)
    case = next(c for c in cases if c.index == (index or 0))
    sizes = ", ".join(f"{k}={v}" for k, v in case.sizes.items())
    return f"case {case.index} ({sizes or 'static'}, {case.draw})", case.feeds
