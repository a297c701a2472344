"""Findings for differences excused because they lie only where a padding mask says padding."""

from __future__ import annotations

import math

from onnxproof.linting._base import make_finding
from onnxproof.results import Finding, ParityReport


def padded_position_findings(parity: ParityReport) -> tuple[Finding, ...]:
    """One ``masked-row-mismatch`` per output whose differences were all at padded positions,
    saying how many elements were excused over how many cases."""
    by_output: dict[str, list[tuple[str, int, float]]] = {}
    for case in parity.cases:
        for m in case.padded_mismatches:
            by_output.setdefault(m.output, []).append((m.mask, m.elements, m.max_abs_diff))
    findings = []
    for output, hits in by_output.items():
        masks = ", ".join(repr(n) for n in dict.fromkeys(h[0] for h in hits))
        elements = sum(h[1] for h in hits)
        worst = max(h[2] for h in hits)
        # NaN against a number compares as an infinite difference
        shown = f"max abs diff {worst:.3g}" if math.isfinite(worst) else "NaN on one side"
        findings.append(
            make_finding(
                "masked-row-mismatch",
                f"output {output!r} on {parity.runtime} differs from {parity.reference} only at "
                f"positions {masks} marks as padding: {elements} element(s) excused in "
                f"{len(hits)} case(s) ({shown}); every token position agrees",
            )
        )
    return tuple(findings)
