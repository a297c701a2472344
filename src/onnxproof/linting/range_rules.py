"""Rules over the dims torch.export bounded: the range itself, and parity failing past it."""

from __future__ import annotations

from collections.abc import Iterable

from onnxproof.linting._base import make_finding
from onnxproof.results import CaseResult, DimRange, Finding, ParityReport


def range_text(dim: DimRange) -> str:
    high = "∞" if dim.high is None else str(dim.high)
    return f"dim {dim.name!r} valid only in [{dim.low}, {high}] per {dim.source}"


def range_findings(ranges: Iterable[DimRange]) -> tuple[Finding, ...]:
    """``dim-range`` (info) for each dim the exporter gave an upper bound."""
    return tuple(
        make_finding(
            "dim-range",
            f"{range_text(r)}: the model's code tests the size of {r.name}, and the graph "
            f"holds what it does up to {r.high}",
        )
        for r in ranges
        if r.high is not None
    )


def past_range_findings(ranges: Iterable[DimRange], parity: ParityReport) -> tuple[Finding, ...]:
    """``past-dim-range`` for each bounded dim whose sizes past the bound failed, when every
    case that failed lies past some bound: cases within every range all agreed, so the range
    is what tells the failing cases apart. A failure within range points elsewhere."""
    bounded = [r for r in ranges if r.high is not None]
    ran = [c for c in parity.cases if not c.skipped and c.index >= 0]
    failed = [c for c in ran if _failed(c)]
    if not bounded or not failed:
        return ()
    if not all(any(_past(c, r) for r in bounded) for c in failed):
        return ()
    if not any(c.passed and not any(_past(c, r) for r in bounded) for c in ran):
        return ()  # nothing within range agreed either: no contrast to point at
    findings = []
    for dim in bounded:
        sizes = sorted({c.sizes[dim.name] for c in failed if _past(c, dim)})
        if not sizes:
            continue
        count = sum(1 for c in failed if _past(c, dim))
        shown = ", ".join(f"{dim.name}={s}" for s in sizes)
        findings.append(
            make_finding(
                "past-dim-range",
                f"{range_text(dim)}; {parity.runtime} disagrees with {parity.reference} past it "
                f"({count} case(s) failed, at {shown}) while every case within range agreed: "
                f"the model takes another path for {dim.name} > {dim.high} that the file lacks",
            )
        )
    return tuple(findings)


def _failed(case: CaseResult) -> bool:
    return not case.passed and (bool(case.failed_outputs) or case.error is not None)


def _past(case: CaseResult, dim: DimRange) -> bool:
    size = case.sizes.get(dim.name)
    return size is not None and dim.high is not None and size > dim.high
