"""Rules on what the reference's values allow to be judged: NaN or inf in PyTorch's output, and
outputs too small for their atol (the elementwise test is blind to their errors)."""

from __future__ import annotations

from typing import Protocol

from onnxproof.linting._base import make_finding
from onnxproof.results import Finding
from onnxproof.verification.tolerance import (
    NOISE_MARGIN,
    NONFINITE_WARNING_FRACTION,
    SMALL_OUTPUT_REL_L2,
)


class _Judged(Protocol):
    """The fields OutputParity and OutputDatasetMetrics share for these rules."""

    @property
    def name(self) -> str: ...
    @property
    def atol(self) -> float: ...
    @property
    def mismatch_fraction(self) -> float: ...
    @property
    def rel_l2_error(self) -> float | None: ...
    @property
    def reference_nonfinite_fraction(self) -> float: ...
    @property
    def reference_all_nonfinite(self) -> bool: ...
    @property
    def reference_rms(self) -> float | None: ...
    @property
    def reference_noise(self) -> float | None: ...
    @property
    def small_output_diverged(self) -> bool: ...


def judged_by_values(output: _Judged) -> bool:
    """Failed for a reason these rules explain, not by elements out of tolerance (so no
    output-mismatch is reported for it)."""
    explained = output.reference_all_nonfinite or output.small_output_diverged
    return explained and output.mismatch_fraction == 0


def value_findings(output: _Judged, where: str, *, generated: bool = True) -> tuple[Finding, ...]:
    """``where`` says on what the output was compared ("on ort-cpu", "on data.npz");
    ``generated``: on the generated cases (else on the user's data)."""
    if output.reference_all_nonfinite:
        why = (
            "the generated inputs are probably outside the model's domain, or the model "
            "produces NaN (try --data, or a value range in the input spec)"
            if generated
            else "the model produces NaN or inf on this data"
        )
        return (
            make_finding(
                "reference-not-finite",
                f"output {output.name!r} {where}: PyTorch's output was NaN or inf in every "
                f"element, so nothing of it was compared; {why}",
            ),
        )
    findings = []
    fraction = output.reference_nonfinite_fraction
    if fraction >= NONFINITE_WARNING_FRACTION:
        findings.append(
            make_finding(
                "reference-partly-not-finite",
                f"output {output.name!r} {where}: {fraction:.1%} of PyTorch's output was NaN "
                "or inf; where the runtime gave the same, nothing was compared",
            )
        )
    small_case = getattr(output, "small_case", None)
    if output.small_output_diverged and small_case is not None:
        findings.append(
            make_finding(
                "small-output-mismatch",
                f"output {output.name!r} {where}: on {small_case}; the output is at or below "
                f"atol {output.atol:g} there, so the elementwise test cannot see errors of its "
                "size, and the larger cases' figures hide it",
            )
        )
    elif output.small_output_diverged:
        findings.append(
            make_finding(
                "small-output-mismatch",
                f"output {output.name!r} {where}: its scale (RMS {output.reference_rms:.2e}) is "
                f"at or below atol {output.atol:g}, so the elementwise test cannot see errors of "
                f"its size; its relative L2 error is {output.rel_l2_error:.2e}, above "
                f"{SMALL_OUTPUT_REL_L2:g}{_noise_note(output.reference_noise)}",
            )
        )
    return tuple(findings)


def _noise_note(noise: float | None) -> str:
    if noise is None:
        return ""
    return (
        f" and {NOISE_MARGIN:g}x PyTorch's own noise (its output moves by {noise:.2e} when its "
        "float inputs move by one ulp)"
    )


def value_failure(output: _Judged, where: str, *, generated: bool = True) -> Finding | None:
    """The error finding that explains why the output failed, when these rules alone failed it
    (None when elements were out of tolerance, or nothing failed here)."""
    if not judged_by_values(output):
        return None
    errors = [
        f
        for f in value_findings(output, where, generated=generated)
        if f.code in ("reference-not-finite", "small-output-mismatch")
    ]
    return errors[0] if errors else None
