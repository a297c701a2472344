"""Closeness figures for one pair of arrays. Pure NumPy; tolerances are inputs, never constants.

Convention (NumPy and torch.testing): an element is close when ``|a - b| <= atol + rtol * |b|``
with ``b`` the reference. NaN is close only to NaN; equal infinities are close; integer and bool
arrays compare exactly. Relative error is taken over elements where the reference is non-zero.

A pair that is NaN on both sides, or the same infinity on both sides, agrees but proves nothing:
it is counted apart (``nonfinite_pairs``), never among the compared elements, so an output that is
NaN everywhere cannot look like one that matched exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from onnxproof.results import ErrorHistogram

#: Error histogram bins: HISTOGRAM_BINS_PER_DECADE per decade from 10**HISTOGRAM_LOG10_RANGE[0]
#: to 10**HISTOGRAM_LOG10_RANGE[1]. Coarse on purpose: it is drawn, not used to judge, and 28
#: counters per output cost nothing to keep; fp16 errors (~1e-3) and float32 noise (~1e-7) both
#: land well inside.
HISTOGRAM_LOG10_RANGE = (-10, 4)
HISTOGRAM_BINS_PER_DECADE = 2
HISTOGRAM_BINS = (HISTOGRAM_LOG10_RANGE[1] - HISTOGRAM_LOG10_RANGE[0]) * HISTOGRAM_BINS_PER_DECADE
#: The bin edges (HISTOGRAM_BINS + 1 of them).
HISTOGRAM_EDGES = tuple(
    10.0 ** (HISTOGRAM_LOG10_RANGE[0] + k / HISTOGRAM_BINS_PER_DECADE)
    for k in range(HISTOGRAM_BINS + 1)
)


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """How one actual array compares with its reference."""

    max_abs_diff: float
    max_rel_diff: float
    mismatches: int
    elements: int
    min_passing_atol: float
    shape_error: str | None = None
    #: ``log_histogram`` of the elementwise |a - b| (None when shapes differ).
    histogram: np.ndarray | None = field(default=None, compare=False)
    #: Sums of squares over the finite elements, for the relative L2 error across cases:
    #: sum (a - b)^2 and sum b^2.
    sq_diff: float = 0.0
    sq_ref: float = 0.0
    #: Pairs NaN on both sides or the same infinity on both sides: agreeing, not compared.
    nonfinite_pairs: int = 0
    #: Reference elements that are NaN or infinite.
    reference_nonfinite: int = 0
    #: Pairs finite on both sides (those the sums of squares run over).
    finite_pairs: int = 0

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
            max_abs_diff=0.0,
            max_rel_diff=0.0,
            mismatches=0,
            elements=0,
            min_passing_atol=0.0,
            histogram=log_histogram(np.zeros(0)),
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
        squares = _squares(a, b)
        return Comparison(
            max_abs_diff=float(diff.max()),
            max_rel_diff=_max_rel(diff, np.abs(b.astype(np.float64))),
            mismatches=mismatches,
            elements=reference.size,
            min_passing_atol=float(diff.max()) if mismatches else 0.0,
            histogram=log_histogram(diff),
            sq_diff=squares[0],
            sq_ref=squares[1],
            finite_pairs=reference.size,
        )
    diff, abs_b, needed, close = float_closeness(actual, reference, atol=atol, rtol=rtol)
    squares = _squares(actual, reference)
    exempt = agreeing_nonfinite(actual, reference)
    pairs = int(np.count_nonzero(exempt))
    return Comparison(
        max_abs_diff=float(diff.max()),
        max_rel_diff=_max_rel(diff, abs_b),
        mismatches=int(np.count_nonzero(~close)),
        elements=reference.size - pairs,
        min_passing_atol=float(max(0.0, needed.max())),
        histogram=log_histogram(diff[~exempt]),
        sq_diff=squares[0],
        sq_ref=squares[1],
        nonfinite_pairs=pairs,
        reference_nonfinite=int(np.count_nonzero(~np.isfinite(reference))),
        finite_pairs=int(np.count_nonzero(np.isfinite(actual) & np.isfinite(reference))),
    )


def agreeing_nonfinite(actual: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Elementwise: NaN on both sides, or the same infinity on both sides."""
    a = np.asarray(actual, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    return (np.isnan(a) & np.isnan(b)) | (np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b)))


def reference_rms(sq_ref: float, finite_pairs: int) -> float | None:
    """Root mean square of the reference over the pairs finite on both sides: the output's own
    scale (None when no pair was finite)."""
    return float(np.sqrt(sq_ref / finite_pairs)) if finite_pairs else None


def _squares(actual: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """sum (a - b)^2 and sum b^2 over the elements finite on both sides, in float64."""
    a = np.asarray(actual, dtype=np.float64).ravel()
    b = np.asarray(reference, dtype=np.float64).ravel()
    finite = np.isfinite(a) & np.isfinite(b)
    a, b = a[finite], b[finite]
    return float(np.sum((a - b) ** 2)), float(np.sum(b * b))


def rel_l2(sq_diff: float, sq_ref: float) -> float:
    """||a - b|| / ||b|| from the sums of squares (inf when b is all zero and a is not)."""
    if sq_ref > 0:
        return float(np.sqrt(sq_diff / sq_ref))
    return float("inf") if sq_diff > 0 else 0.0


def log_histogram(diff: np.ndarray) -> np.ndarray:
    """Counts of ``diff`` (non-negative, inf allowed) as one int64 array: [exact zeros, below the
    first edge, one per bin of ``HISTOGRAM_EDGES``, at or above the last edge]. Arrays of counts
    add, so a histogram over many cases is the sum of theirs."""
    flat = np.asarray(diff, dtype=np.float64).ravel()
    counts = np.zeros(HISTOGRAM_BINS + 3, dtype=np.int64)
    positive = flat[flat > 0]
    counts[0] = flat.size - positive.size
    low, high = HISTOGRAM_EDGES[0], HISTOGRAM_EDGES[-1]
    counts[1] = int(np.count_nonzero(positive < low))
    counts[-1] = int(np.count_nonzero(positive >= high))
    inside = positive[(positive >= low) & (positive < high)]
    if inside.size:
        bins = np.floor(
            (np.log10(inside) - HISTOGRAM_LOG10_RANGE[0]) * HISTOGRAM_BINS_PER_DECADE
        ).astype(np.int64)
        counts[2:-1] += np.bincount(np.clip(bins, 0, HISTOGRAM_BINS - 1), minlength=HISTOGRAM_BINS)
    return counts


def histogram_record(counts: np.ndarray) -> ErrorHistogram:
    """The record of a ``log_histogram`` count array."""
    return ErrorHistogram(
        edges=HISTOGRAM_EDGES,
        counts=tuple(int(c) for c in counts[2:-1]),
        zeros=int(counts[0]),
        below=int(counts[1]),
        above=int(counts[-1]),
    )


def float_closeness(
    actual: np.ndarray, reference: np.ndarray, *, atol: float, rtol: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The convention, elementwise in float64: (|a - b|, |b| where finite, atol each element
    needs at this rtol, close). NaN against non-NaN is an infinite difference; NaN against NaN
    and equal infinities are a difference of 0."""
    a = actual.astype(np.float64)
    b = reference.astype(np.float64)
    exempt = agreeing_nonfinite(a, b)
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
