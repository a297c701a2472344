"""The end of every run: the findings that read the results, then the verdict, once and last."""

from __future__ import annotations

from onnxproof.pipeline._context import RunContext
from onnxproof.results import Finding, RunReport, status_from
from onnxproof.specs import TensorSpec


def finish(ctx: RunContext) -> RunReport:
    """Add the findings over the parity results, then judge everything found."""
    from onnxproof import environment

    findings = [*ctx.findings, *spec_findings(ctx.specs), *result_findings(ctx)]
    ctx.findings = findings
    steps = tuple(ctx.steps.values())
    failed = any(s.state == "fail" for s in steps if s.name != "localize")
    unjudged = any(s.state == "error" for s in steps)
    status = status_from(
        tuple(findings),
        checks_passed=not failed,
        fail_on=ctx.verify_options.fail_on,
        judged=not unjudged and "parity" in ctx.steps,
    )
    return RunReport(
        status=status,
        model=ctx.loaded.reference,
        steps=steps,
        export=ctx.export,
        opset_reason=ctx.opset_reason,
        check=ctx.check,
        verification=ctx.parity,
        data=ctx.dataset.report if ctx.dataset is not None else None,
        localization=ctx.localization,
        findings=tuple(findings),
        environment=environment.collect(),
        timings=dict(ctx.timings),
    )


def result_findings(ctx: RunContext) -> tuple[Finding, ...]:
    """Findings over the parity results; only a failed parity reads the graph (baked sizes)."""
    from onnxproof.linting.parity_rules import fixed_dynamic_dims, parity_findings

    parity = ctx.parity
    if parity is None or not parity.available:
        return ()
    graph = None
    if not parity.passed and ctx.onnx_path is not None:
        import onnx

        graph = onnx.load(ctx.onnx_path, load_external_data=False)
    # Dims the graph already shows fixed are reported by the graph rule; not twice.
    known = fixed_dynamic_dims(ctx.specs, ctx.check.info if ctx.check else None)
    return parity_findings(parity, graph, known)


def spec_findings(specs: tuple[TensorSpec, ...]) -> tuple[Finding, ...]:
    from onnxproof.linting._base import make_finding

    return tuple(
        make_finding(
            "default-int-range", f"input {s.name!r} ({s}) has no value range; generated 0..9"
        )
        for s in specs
        if s.is_integer and s.value_range is None
    )
