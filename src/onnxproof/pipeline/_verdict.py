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
        runtimes=tuple(ctx.runtime_reports),
        data=ctx.dataset.report if ctx.dataset is not None else None,
        localization=ctx.localization,
        repro_bundle=ctx.repro_bundle,
        generation=ctx.generation,
        findings=tuple(findings),
        environment=environment.collect(),
        timings=dict(ctx.timings),
    )


def result_findings(ctx: RunContext) -> tuple[Finding, ...]:
    """Findings over the parity results; only a failed parity reads the graph (baked sizes)."""
    from onnxproof.linting.coverage_rules import single_size_findings
    from onnxproof.linting.dtype_rules import loosened_tolerance_findings, output_dtype_findings
    from onnxproof.linting.graph_rules import fixed_dynamic_dims
    from onnxproof.linting.parity_rules import parity_findings
    from onnxproof.linting.range_rules import past_range_findings

    reports = [r for r in ctx.runtime_reports if r.available]
    if not reports:
        return ()
    graph = None
    if not all(r.passed for r in reports) and ctx.onnx_path is not None:
        import onnx

        graph = onnx.load(ctx.onnx_path, load_external_data=False)
    # Dims the graph already shows fixed are reported by the graph rule; not twice.
    known = tuple(fixed_dynamic_dims(ctx.specs, ctx.check.info if ctx.check else None))
    info = ctx.check.info if ctx.check else None
    findings: list[Finding] = output_dtype_findings(info, reports[0])
    findings += loosened_tolerance_findings(reports[0])
    findings += single_size_findings(reports[0])
    for index, report in enumerate(reports):
        # A baked size is a property of the file: diagnosed once, on the first runtime that ran.
        findings.extend(parity_findings(report, graph, known, diagnose_baked=index == 0))
    if ctx.export is not None:  # a size past the range torch.export gave: also the file's
        findings.extend(past_range_findings(ctx.export.dim_ranges, reports[0]))
    return tuple(findings)


def spec_findings(specs: tuple[TensorSpec, ...]) -> tuple[Finding, ...]:
    from onnxproof.linting._base import make_finding

    findings = [
        make_finding(
            "default-int-range", f"input {s.name!r} ({s}) has no value range; generated 0..9"
        )
        for s in specs
        if s.is_integer and s.value_range is None and s.role is None
    ]
    inferred = {
        "mask": "inferred-padding-mask",
        "pad": "inferred-padding-mask",
        "positions": "inferred-position-ids",
    }
    polarity = {"mask": " (1 marks a token)", "pad": " (True marks padding)"}
    findings += [
        make_finding(
            inferred[s.role],
            f"input {s.name!r} ({s}): {s.role} role from its name{polarity.get(s.role, '')}",
        )
        for s in specs
        if s.role_inferred and s.role in inferred
    ]
    return tuple(findings)
