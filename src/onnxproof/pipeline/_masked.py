"""The fully masked row, tried once per runtime after the generated cases (models with a
padding mask only): a difference there alone is a warning, anywhere else a failed case."""

from __future__ import annotations

import dataclasses
import functools
import math

from onnxproof.pipeline._context import RunContext
from onnxproof.pipeline._verify import Sessions, parity_state
from onnxproof.results import CaseResult


def masked_rows_step(ctx: RunContext, sessions: Sessions) -> None:
    """Run the degenerate case on every runtime that ran the generated cases."""
    from onnxproof.linting._base import make_finding
    from onnxproof.verification import masked_rows, padded_positions

    case = masked_rows.masked_row_case(ctx.specs, ctx.verify_options.seed)
    if case is None or not ctx.runtime_reports:
        return
    reports = list(ctx.runtime_reports)
    judge = functools.partial(
        masked_rows.verify_masked_rows,
        specs=ctx.specs,
        policy=ctx.policy,
        output_dims=padded_positions.declared_dims(ctx.check),
    )
    with ctx.timed("verify", "trying a fully masked row"):
        for index, candidate in enumerate(sessions.candidates):
            report = reports[index] if index < len(reports) else None
            if candidate.session is None or report is None or not report.available:
                continue
            outcome = judge(sessions.reference, candidate.session, case)
            if outcome is None:
                continue
            rows = ", ".join(str(r) for r in outcome.masked_rows)
            for name in outcome.masked_only:
                diff = (outcome.masked_diffs or {}).get(name, float("nan"))
                # NaN against a number compares as an infinite difference
                shown = f"max abs diff {diff:.3g}" if math.isfinite(diff) else "NaN on one side"
                ctx.findings.append(
                    make_finding(
                        "masked-row-mismatch",
                        f"output {name!r} on {candidate.name} differs from PyTorch only on the "
                        f"fully masked row(s) {rows} ({shown}); every row that holds a token "
                        "agrees",
                    )
                )
            if not outcome.failed and outcome.error is None:
                continue
            error = outcome.error or (
                f"with row(s) {rows} fully masked, {list(outcome.failed)} differ(s) on rows "
                "that hold tokens"
            )
            if outcome.failed:
                ctx.findings.append(make_finding("output-mismatch", f"{candidate.name}: {error}"))
            failed_case = CaseResult(
                index=case.index,
                sizes=case.sizes,
                draw=case.draw,
                passed=False,
                error=error,
                failed_outputs=outcome.failed,
            )
            reports[index] = dataclasses.replace(
                report, passed=False, cases=(*report.cases, failed_case)
            )
    ctx.runtime_reports = reports
    ctx.parity = reports[sessions.candidates.index(sessions.primary)]
    state, detail = parity_state(reports)
    ctx.record("parity", state, detail)
