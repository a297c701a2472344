"""The file's declared output types against what PyTorch returns.

Values can agree within tolerance while the types differ (a float16 output where PyTorch gives
float32, float or int32 where it gives int64 indices): whatever consumes the file gets another
type than the model's callers do, and a lower precision hides inside a loose comparison.
"""

from __future__ import annotations

from onnxproof.linting._base import make_finding
from onnxproof.results import Finding, ModelInfo, ParityReport


def output_dtype_findings(info: ModelInfo | None, report: ParityReport) -> list[Finding]:
    """One error per output whose declared element type is not PyTorch's."""
    if info is None:
        return []
    declared = {o.name: o.dtype for o in info.outputs}
    findings = []
    for output in report.outputs:
        in_file = declared.get(output.name)
        if in_file is None or in_file == "unknown" or in_file == output.dtype:
            continue
        findings.append(
            make_finding(
                "output-dtype-mismatch",
                f"output {output.name!r} is {in_file} in the file where PyTorch returns "
                f"{output.dtype}",
            )
        )
    return findings


#: How far above its dtype's default a tolerance may be raised before the report says so.
LOOSENED = 10.0


def loosened_tolerance_findings(report: ParityReport) -> list[Finding]:
    """A warning per output compared with a tolerance well above its dtype's default: a PASS
    under it says less than a PASS under the defaults, and the verdict alone would not show it."""
    from onnxproof.verification.tolerance import DEFAULTS, EXACT

    findings = []
    for output in report.outputs:
        default_atol, default_rtol = DEFAULTS.get(output.dtype, EXACT)
        loose = [
            f"{label} {value:g} (default {default:g})"
            for label, value, default in (
                ("atol", output.atol, default_atol),
                ("rtol", output.rtol, default_rtol),
            )
            if value > 0 and value > LOOSENED * default
        ]
        if loose:
            findings.append(
                make_finding(
                    "tolerance-loosened",
                    f"output {output.name!r} ({output.dtype}) was compared with "
                    f"{' and '.join(loose)}: its PASS allows errors that large",
                )
            )
    return findings
