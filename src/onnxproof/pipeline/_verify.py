"""The steps over an ONNX file: check, parity on generated cases, determinism, data, localization.

Both sides — the eval-mode PyTorch reference and the candidate runtime — come from
``runtimes.get``; a runtime that is missing or cannot load the file is a row that says why.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onnxproof.errors import OnnxproofError, UsageError
from onnxproof.pipeline._context import RunContext
from onnxproof.results import ParityReport
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
    unknown = sorted(set(ctx.verify_options.tolerances) - outputs)
    if unknown:
        raise UsageError(
            f"--tol names output(s) {unknown} that {path} does not have",
            hint=f"its outputs are {sorted(outputs)}",
        )
    return ctx.check.passed


@dataclass
class Sessions:
    """The reference and the candidate; the candidate is None when its runtime could not load."""

    reference: Session
    candidate: Session | None
    runtime: Any
    #: Why there is no candidate: the runtime is missing (could not judge) ...
    missing: str | None = None
    #: ... or it rejected the file (the file does not run where it will be deployed).
    load_error: str | None = None

    @property
    def reason(self) -> str | None:
        return self.missing or self.load_error


@contextlib.contextmanager
def opened(ctx: RunContext, path: str) -> Iterator[Sessions]:
    """Open both sides through the runtime registry and close them after."""
    from onnxproof import runtimes
    from onnxproof.verification._explain import explain_load_error

    info = ctx.check.info if ctx.check else None
    reference_runtime = runtimes.get(
        "torch",
        module=ctx.loaded.module,
        input_names=tuple(t.name for t in info.inputs) if info else (),
        output_names=tuple(t.name for t in info.outputs) if info else (),
    )
    with reference_runtime.load(path) as reference:
        try:
            runtime = runtimes.get(CANDIDATE)
        except OnnxproofError as exc:
            yield Sessions(reference, None, None, missing=str(exc))
            return
        try:
            candidate = runtime.load(path)
        except Exception as exc:  # the runtime rejects the file: a row, not a crash
            reason = f"{runtime.name} could not load the model: {explain_load_error(str(exc))}"
            yield Sessions(reference, None, runtime, load_error=reason)
            return
        with candidate:
            yield Sessions(reference, candidate, runtime)


def parity_step(ctx: RunContext, sessions: Sessions) -> None:
    """Every generated case through both sides; the cases are saved first when asked."""
    from onnxproof.data import synthetic_cases
    from onnxproof.verification import verify_parity

    options = ctx.verify_options
    cases = synthetic_cases(ctx.specs, seed=options.seed)
    if options.save_inputs is not None:
        from onnxproof.data.replay import save_cases

        save_cases(synthetic_cases(ctx.specs, seed=options.seed), Path(options.save_inputs))
    with ctx.timed("verify", "verifying generated cases"):
        if sessions.candidate is None:
            ctx.parity = unavailable(CANDIDATE, ctx, sessions)
        else:
            ctx.parity = verify_parity(
                sessions.reference,
                sessions.candidate,
                cases,
                specs=ctx.specs,
                policy=ctx.policy,
                runtime=sessions.runtime.name,
            )
    parity = ctx.parity
    if sessions.load_error is not None:
        from onnxproof.linting._base import make_finding

        ctx.findings.append(make_finding("runtime-failure", sessions.load_error))
        ctx.record("parity", "fail", sessions.load_error)
    elif not parity.available:
        ctx.record("parity", "error", parity.unavailable_reason or "")
    elif parity.compared_elements == 0 and parity.passed:
        ctx.record(
            "parity", "error", "nothing was compared: every output had 0 elements in every case"
        )
    else:
        ctx.record("parity", "pass" if parity.passed else "fail")


def unavailable(runtime: str, ctx: RunContext, sessions: Sessions) -> ParityReport:
    """The row of a runtime that ran nothing: missing (could not judge) or rejecting the file."""
    atol, rtol = ctx.policy.headline()
    return ParityReport(
        runtime=runtime,
        reference="torch",
        passed=False,
        atol=atol,
        rtol=rtol,
        cases=(),
        outputs=(),
        available=sessions.missing is None,
        unavailable_reason=sessions.missing,
        load_error=sessions.load_error,
    )


def determinism_step(ctx: RunContext, sessions: Sessions) -> None:
    """The first case twice through each side: values that change point at a stochastic op."""
    from onnxproof.data import synthetic_cases
    from onnxproof.linting.parity_rules import nondeterminism_finding
    from onnxproof.verification.determinism import differing_outputs

    if sessions.candidate is None or ctx.parity is None or not ctx.parity.cases:
        return
    first = next(iter(synthetic_cases(ctx.specs, seed=ctx.verify_options.seed, draws=("normal",))))
    named = ((sessions.runtime.name, sessions.candidate), ("eval-mode PyTorch", sessions.reference))
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
    from onnxproof.data.files import ImageSpec, iter_batches, open_data
    from onnxproof.verification.dataset import TASK_TOPK

    options = ctx.data_options
    if options.task is not None and options.task not in TASK_TOPK:
        raise UsageError(
            f"unknown task {options.task!r}", hint=f"use one of {', '.join(TASK_TOPK)}"
        )
    if options.data is None:
        return
    if isinstance(options.data, str | Path):
        image_spec = ImageSpec.parse(options.image_spec) if options.image_spec else None
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

    if ctx.data_batches is None or sessions.candidate is None:
        if ctx.data_options.data is not None:
            ctx.record("data", "not-run", sessions.reason or "the file did not load")
        return
    source, total, batches = ctx.data_batches
    report_progress = ctx.data_options.progress

    def progress(samples: int) -> None:
        if report_progress is not None:
            report_progress(samples, total)

    with ctx.timed("data", "verifying the data"):
        ctx.dataset = verify_dataset(
            sessions.reference,
            sessions.candidate,
            batches,
            source=source,
            specs=ctx.specs,
            policy=ctx.policy,
            runtime=sessions.runtime.name,
            task=ctx.data_options.task,
            progress=progress,
        )
    report = ctx.dataset.report
    ctx.findings.extend(data_findings(report))
    if report.samples == 0:
        ctx.record("data", "error", f"{source} held no samples: nothing was compared")
    else:
        ctx.record("data", "pass" if report.passed else "fail")


def localize_step(ctx: RunContext, sessions: Sessions, path: str) -> None:
    """The first divergent module, on the first case (or data batch) that disagreed."""
    import onnx

    from onnxproof.verification.localize import localize

    chosen = feeds_to_localize(ctx)
    if chosen is None or sessions.candidate is None:
        return
    label, feeds = chosen
    runtime = sessions.runtime
    with ctx.timed("localize", "localizing the divergence"):
        full = onnx.load(path)  # with its weights: the instrumented copy must run
        ctx.localization = localize(
            full,
            sessions.reference.module_outputs(feeds),  # type: ignore[attr-defined]
            lambda instrumented: _run_once(runtime, instrumented, feeds),
            policy=ctx.policy,
            case=label,
        )
    found = ctx.localization.first_divergent_module
    ctx.record("localize", "fail" if found else "pass", found or "")


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
    index = next((c.index for c in parity.cases if c.failed_outputs), None)
    dataset = ctx.dataset
    if index is None and dataset is not None and dataset.failing_batch is not None:
        return "the first data batch that disagreed", dataset.failing_batch
    if index is None and not localize:
        return None
    seed = ctx.verify_options.seed
    case = next(c for c in synthetic_cases(ctx.specs, seed=seed) if c.index == (index or 0))
    sizes = ", ".join(f"{k}={v}" for k, v in case.sizes.items())
    return f"case {case.index} ({sizes or 'static'}, {case.draw})", case.feeds
