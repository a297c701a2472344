"""Parity: every case through the reference and a candidate runtime, compared per output."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from onnxproof.data import Case
from onnxproof.results import CaseResult, OutputParity, PaddedMismatch, ParityReport
from onnxproof.runtimes import Session
from onnxproof.specs import TensorSpec
from onnxproof.verification._explain import explain_runtime_error
from onnxproof.verification.metrics import (
    Comparison,
    compare,
    histogram_record,
    reference_rms,
    rel_l2,
)
from onnxproof.verification.noise import reference_noise, small_outputs
from onnxproof.verification.padded_positions import (
    FileDims,
    PaddingMask,
    excuse_padded,
    padding_masks,
)
from onnxproof.verification.tolerance import TolerancePolicy, small_output_diverged

log = logging.getLogger(__name__)


@dataclass
class _Running:
    """Worst-so-far figures of one output over the cases seen."""

    dtype: str
    atol: float
    rtol: float
    max_abs: float = 0.0
    max_rel: float = 0.0
    mismatches: int = 0
    elements: int = 0
    min_atol: float = 0.0
    failed: bool = False
    cases: int = 0
    sq_diff: float = 0.0
    sq_ref: float = 0.0
    #: Summed ``log_histogram`` counts of the cases compared (None: none had a shape to compare).
    histogram: np.ndarray | None = None
    nonfinite_pairs: int = 0
    finite_pairs: int = 0
    reference_nonfinite: int = 0
    reference_elements: int = 0
    #: Cases whose reference was NaN in every element: not compared.
    cases_reference_nan: int = 0
    #: Whether this output is also judged by relative L2 error when small next to its atol.
    judges_scale: bool = False
    #: Sums of squares of PyTorch's own change under a one-ulp nudge, and of its output there.
    noise_sq: float = 0.0
    noise_ref: float = 0.0
    #: The first case whose own scale is at or below atol and whose relative L2 error says it
    #: diverges, with its figures: judged per case too, since pooled figures let the large
    #: cases hide a divergence in the small ones.
    small_case: str | None = None

    def skip_nan_reference(self, size: int) -> None:
        self.cases_reference_nan += 1
        self.reference_nonfinite += size
        self.reference_elements += size

    def add(self, c: Comparison) -> None:
        self.max_abs = max(self.max_abs, c.max_abs_diff)
        self.max_rel = max(self.max_rel, c.max_rel_diff)
        self.mismatches += c.mismatches
        self.elements += c.elements
        self.min_atol = max(self.min_atol, c.min_passing_atol)
        self.failed = self.failed or not c.passed
        self.cases += 1
        self.sq_diff += c.sq_diff
        self.sq_ref += c.sq_ref
        self.nonfinite_pairs += c.nonfinite_pairs
        self.finite_pairs += c.finite_pairs
        self.reference_nonfinite += c.reference_nonfinite
        self.reference_elements += c.elements + c.nonfinite_pairs
        if c.histogram is not None:
            self.histogram = c.histogram if self.histogram is None else self.histogram + c.histogram


def verify_parity(
    reference: Session,
    candidate: Session,
    cases: Iterable[Case],
    *,
    specs: tuple[TensorSpec, ...],
    policy: TolerancePolicy,
    runtime: str,
    reference_name: str = "torch",
    output_dims: dict[str, FileDims] | None = None,
) -> ParityReport:
    """Run each case through both sessions; a runtime error is a failed case, never a crash.

    ``output_dims``, each output's dims as the file declares them, keeps the excuse for a
    difference only at padded positions to outputs laid out as the padding masks are."""
    start = time.perf_counter()
    outputs: dict[str, _Running] = {}
    results: list[CaseResult] = []
    for case in cases:
        results.append(
            _run_case(case, reference, candidate, outputs, specs, policy, output_dims or {})
        )
    output_records = tuple(_record(name, r) for name, r in outputs.items())
    atol, rtol = policy.headline()
    ran = [r for r in results if not r.skipped]
    passed = bool(ran) and all(r.passed for r in ran) and all(o.passed for o in output_records)
    return ParityReport(
        runtime=runtime,
        reference=reference_name,
        passed=passed,
        atol=atol,
        rtol=rtol,
        cases=tuple(results),
        outputs=output_records,
        seconds=round(time.perf_counter() - start, 3),
    )


def _record(name: str, r: _Running) -> OutputParity:
    """The output's figures over every case; never a pass when nothing of it was compared
    because the reference was NaN or inf everywhere, or when it is small next to its atol and
    its relative L2 error says it diverges."""
    error = rel_l2(r.sq_diff, r.sq_ref)
    rms = reference_rms(r.sq_ref, r.finite_pairs)
    all_nonfinite = r.elements == 0 and r.reference_nonfinite > 0
    noise = rel_l2(r.noise_sq, r.noise_ref) if r.noise_ref > 0 else None
    small = r.judges_scale and (
        small_output_diverged(rms, error, r.atol, noise) or r.small_case is not None
    )
    return OutputParity(
        name=name,
        dtype=r.dtype,
        atol=r.atol,
        rtol=r.rtol,
        max_abs_diff=r.max_abs,
        max_rel_diff=r.max_rel,
        mismatch_fraction=r.mismatches / r.elements if r.elements else 0.0,
        min_passing_atol=r.min_atol,
        compared_elements=r.elements,
        passed=not r.failed and not all_nonfinite and not small,
        cases_compared=r.cases,
        rel_l2_error=error,
        histogram=histogram_record(r.histogram) if r.histogram is not None else None,
        nonfinite_pairs=r.nonfinite_pairs,
        reference_nonfinite_fraction=(
            r.reference_nonfinite / r.reference_elements if r.reference_elements else 0.0
        ),
        reference_all_nonfinite=all_nonfinite,
        reference_rms=rms,
        reference_noise=noise,
        small_output_diverged=small,
        cases_reference_nan=r.cases_reference_nan,
        small_case=r.small_case,
    )


def _run_case(
    case: Case,
    reference: Session,
    candidate: Session,
    outputs: dict[str, _Running],
    specs: tuple[TensorSpec, ...],
    policy: TolerancePolicy,
    output_dims: dict[str, FileDims],
) -> CaseResult:
    seconds: float | None = None
    excused: list[PaddedMismatch] = []

    def result(
        passed: bool, error: str | None = None, failed: tuple[str, ...] = (), skipped: bool = False
    ) -> CaseResult:
        return CaseResult(
            index=case.index,
            sizes=case.sizes,
            draw=case.draw,
            passed=passed,
            error=error,
            failed_outputs=failed,
            skipped=skipped,
            seconds=seconds,
            padded_mismatches=tuple(excused),
        )

    try:
        expected = reference.infer(case.feeds)
    except Exception as exc:  # the model itself rejects these sizes: nothing to compare
        log.info("reference failed on case %d: %s", case.index, exc)
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return result(True, f"PyTorch itself raised at sizes {case.sizes}: {reason}", skipped=True)
    try:
        begin = time.perf_counter()
        actual = candidate.infer(case.feeds)
        seconds = time.perf_counter() - begin
    except Exception as exc:
        return result(False, explain_runtime_error(str(exc), specs, case.sizes))
    failed: list[str] = []
    shape_errors: list[str] = []
    noise = reference_noise(reference, case.feeds, expected, small_outputs(expected, policy))
    masks = padding_masks(case.feeds, specs)
    for name, ref in expected.items():
        got = actual.get(name)
        if got is None:
            failed.append(name)
            shape_errors.append(f"{name}: missing from the runtime's outputs")
            continue
        ref_dtype = str(np.asarray(ref).dtype)
        running = outputs.get(name)
        if running is None:
            atol, rtol = policy.for_output(name, ref_dtype)
            running = outputs[name] = _Running(
                dtype=ref_dtype,
                atol=atol,
                rtol=rtol,
                judges_scale=policy.judges_scale(name, ref_dtype),
            )
        if _all_nan(ref):  # no reference to judge against in this case
            running.skip_nan_reference(np.asarray(ref).size)
            continue
        comparison = _judged(name, got, ref, running, (masks, output_dims.get(name)), excused)
        running.add(comparison)
        if name in noise:
            running.noise_sq += noise[name][0]
            running.noise_ref += noise[name][1]
            if running.judges_scale and _small_case_diverged(comparison, running, noise[name]):
                failed.append(name)
                if running.small_case is None:
                    running.small_case = _small_case_text(case, comparison, noise[name])
                continue
        if not comparison.passed:
            failed.append(name)
            if comparison.shape_error:
                shape_errors.append(f"{name}: {comparison.shape_error}")
    error = "; ".join(shape_errors) if shape_errors else None
    return result(not failed, error, tuple(failed))


def _small_case_diverged(
    comparison: Comparison, running: _Running, noise: tuple[float, float]
) -> bool:
    rms = reference_rms(comparison.sq_ref, comparison.finite_pairs)
    case_noise = rel_l2(*noise) if noise[1] > 0 else None
    error = rel_l2(comparison.sq_diff, comparison.sq_ref)
    return small_output_diverged(rms, error, running.atol, case_noise)


def _small_case_text(case: Case, comparison: Comparison, noise: tuple[float, float]) -> str:
    rms = reference_rms(comparison.sq_ref, comparison.finite_pairs) or 0.0
    error = rel_l2(comparison.sq_diff, comparison.sq_ref)
    sizes = ", ".join(f"{k}={v}" for k, v in case.sizes.items()) or "static"
    return (
        f"case {case.index} ({sizes}, {case.draw}): RMS {rms:.2e}, relative L2 error "
        f"{error:.2e}, PyTorch's own noise {rel_l2(*noise):.2e}"
    )


def _all_nan(reference: np.ndarray) -> bool:
    ref = np.asarray(reference)
    if ref.dtype.kind in "biu" or ref.size == 0:
        return False
    return bool(np.isnan(ref.astype(np.float64)).all())


def _judged(
    name: str,
    got: np.ndarray,
    ref: np.ndarray,
    running: _Running,
    layout: tuple[list[PaddingMask], FileDims | None],
    excused: list[PaddedMismatch],
) -> Comparison:
    """One output compared; one that differs only at padded positions is judged on the token
    positions alone, its excuse added to ``excused``. ``layout``: the case's padding masks and
    the output's dims as the file declares them."""
    comparison = compare(got, ref, atol=running.atol, rtol=running.rtol)
    masks, dims = layout
    if comparison.passed or comparison.shape_error or not masks:
        return comparison
    excuse = excuse_padded(name, got, ref, masks, atol=running.atol, rtol=running.rtol, dims=dims)
    if excuse is None:
        return comparison
    excused.append(excuse.mismatch)
    return compare(excuse.actual, ref, atol=running.atol, rtol=running.rtol)
