"""Findings for differences excused because they lie only where a padding mask says padding."""

from __future__ import annotations

import math

from onnxproof.linting._base import make_finding
from onnxproof.results import DatasetReport, Finding, PaddedMismatch, ParityReport


def padded_position_findings(parity: ParityReport) -> tuple[Finding, ...]:
    """One ``masked-row-mismatch`` per output whose differences were all at padded positions,
    saying how many elements were excused over how many cases."""
    by_output: dict[str, list[PaddedMismatch]] = {}
    for case in parity.cases:
        for m in case.padded_mismatches:
            by_output.setdefault(m.output, []).append(m)
    where = f"on {parity.runtime} differs from {parity.reference}"
    return tuple(
        _finding(output, where, hits, f"{len(hits)} case(s)") for output, hits in by_output.items()
    )


def padded_dataset_findings(report: DatasetReport) -> tuple[Finding, ...]:
    """The same on the user's data, per output (summed over the batches)."""
    by_output: dict[str, list[PaddedMismatch]] = {}
    for m in report.padded_mismatches:
        by_output.setdefault(m.output, []).append(m)
    where = f"on {report.source} differs from PyTorch"
    return tuple(
        _finding(output, where, hits, f"{report.samples} sample(s)")
        for output, hits in by_output.items()
    )


def _finding(output: str, where: str, hits: list[PaddedMismatch], over: str) -> Finding:
    masks = ", ".join(repr(n) for n in dict.fromkeys(m.mask for m in hits))
    elements = sum(m.elements for m in hits)
    worst = max(m.max_abs_diff for m in hits)
    # NaN against a number compares as an infinite difference
    shown = f"max abs diff {worst:.3g}" if math.isfinite(worst) else "NaN on one side"
    return make_finding(
        "masked-row-mismatch",
        f"output {output!r} {where} only at positions {masks} marks as padding: {elements} "
        f"element(s) excused in {over} ({shown}); every token position agrees",
    )
