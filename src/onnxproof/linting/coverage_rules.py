"""What the generated cases actually exercised: a dynamic dim compared at one size only."""

from __future__ import annotations

from onnxproof.linting._base import make_finding
from onnxproof.results import Finding, ParityReport


def single_size_findings(report: ParityReport) -> list[Finding]:
    """A warning per dynamic dim whose cases were all skipped (PyTorch itself raised) but at one
    size: the file declares the dim dynamic, and it was compared at that size alone."""
    tried: dict[str, set[int]] = {}
    compared: dict[str, set[int]] = {}
    for case in report.cases:
        if case.index < 0:  # the fully masked row, not a generated size
            continue
        for dim, size in case.sizes.items():
            tried.setdefault(dim, set()).add(size)
            if not case.skipped:
                compared.setdefault(dim, set()).add(size)
    findings = []
    for dim, sizes in tried.items():
        seen = compared.get(dim, set())
        if len(sizes) < 2 or len(seen) != 1:
            continue
        others = ", ".join(str(s) for s in sorted(sizes - seen))
        findings.append(
            make_finding(
                "single-size",
                f"dim {dim!r} was compared at size {next(iter(seen))} only: PyTorch itself "
                f"raised at every other size tried ({others}), though the file declares it "
                "dynamic",
            )
        )
    return findings
