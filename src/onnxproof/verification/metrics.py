"""Closeness figures for one pair of arrays. Pure NumPy; tolerances are inputs, never constants.

Convention (NumPy and torch.testing): an element is close when ``|a - b| <= atol + rtol * |b|``
with ``b`` the reference. NaN is close only to NaN; equal infinities are close; integer and bool
arrays compare exactly. Relative error is taken over elements where the reference is non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """How one actual array compares with its reference."""

    max_abs_diff: float
    max_rel_diff: float
    mismatches: int
    elements: int
    min_passing_atol: float
    shape_error: str | None = None

    @property
    def mismatch_fraction(self) -> float:
        return self.mismatches / self.elements if self.elements else 0.0

    @property
    def passed(self) -> bool:
        return self.shape_error is None and self.mismatches == 0


def is_exact_dtype(dtype: np.dtype) -> bool:
    return dtype.kind in "biu"


def compare(actual: np.ndarray, reference: np.ndarray, *, atol: float, rtol: float) -> Comparison:
    """Compare elementwise. Shapes must match exactly; a mismatch is reported, not broadcast."""
    actual = np.asarray(actual)
    reference = np.asarray(reference)
    if actual.shape != reference.shape:
        return Comparison(
            max_abs_diff=float("inf"),
            max_rel_diff=float("inf"),
            mismatches=max(actual.size, reference.size),
            elements=max(actual.size, reference.size),
            min_passing_atol=float("inf"),
            shape_error=f"shape {list(actual.shape)} where PyTorch gives {list(reference.shape)}",
        )
    if reference.size == 0:
        return Comparison(
            max_abs_diff=0.0, max_rel_diff=0.0, mismatches=0, elements=0, min_passing_atol=0.0
        )
    if is_exact_dtype(reference.dtype) and is_exact_dtype(actual.dtype):
        a = actual.astype(np.int64) if actual.dtype.kind != "u" else actual.astype(np.float64)
        b = (
            reference.astype(np.int64)
            if reference.dtype.kind != "u"
            else reference.astype(np.float64)
        )
        diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
        mismatches = int(np.count_nonzero(actual != reference))
        return Comparison(
            max_abs_diff=float(diff.max()),
            max_rel_diff=_max_rel(diff, np.abs(b.astype(np.float64))),
            mismatches=mismatches,
            elements=reference.size,
            min_passing_atol=float(diff.max()) if mismatches else 0.0,
        )
    diff, abs_b, needed, close = float_closeness(actual, reference, atol=atol, rtol=rtol)
    return Comparison(
        max_abs_diff=float(diff.max()),
        max_rel_diff=_max_rel(diff, abs_b),
        mismatches=int(np.count_nonzero(~close)),
        elements=reference.size,
        min_passing_atol=float(max(0.0, needed.max())),
    )


def float_closeness(
    actual: np.ndarray, reference: np.ndarray, *, atol: float, rtol: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The convention, elementwise in float64: (|a - b|, |b| where finite, atol each element
    needs at this rtol, close). NaN against non-NaN is an infinite difference; NaN against NaN
    and equal infinities are a difference of 0."""
    a = actual.astype(np.float64)
    b = reference.astype(np.float64)
    exempt = (np.isnan(a) & np.isnan(b)) | (np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b)))
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(exempt, 0.0, np.abs(a - b))
    diff = np.where(np.isnan(diff), np.inf, diff)  # NaN on one side only: never close
    abs_b = np.where(np.isfinite(b), np.abs(b), 0.0)
    close = diff <= atol + rtol * abs_b
    with np.errstate(invalid="ignore"):
        needed = np.where(np.isinf(diff), np.inf, diff - rtol * abs_b)
    return diff, abs_b, needed, close


def _max_rel(diff: np.ndarray, abs_reference: np.ndarray) -> float:
    nonzero = abs_reference > 0
    if not nonzero.any():
        return 0.0 if not diff.any() else float("inf")
    return float((diff[nonzero] / abs_reference[nonzero]).max())
