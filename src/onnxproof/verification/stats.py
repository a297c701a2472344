"""Streaming per-output statistics over a whole dataset, in memory that does not grow with it.

Pure NumPy; tolerances are arguments, never constants. Elements follow the convention of
``metrics.py``: close when ``|a - b| <= atol + rtol * |b|`` with ``b`` the reference (PyTorch);
NaN is close only to NaN (NaN on one side counts as an infinite difference); equal infinities
are exempt (difference 0); integer and bool outputs compare exactly, atol and rtol ignored.
Exempt pairs (NaN on both sides, the same infinity on both sides) agree but prove nothing: they
are counted apart, never among ``elements``, and a sample whose reference is NaN in every element
is not compared. An output of which nothing was compared that way never passes; nor does one
whose scale is at or below atol while its relative L2 error says it diverges (``tolerance.py``).

Bounded state per output: running sums and maxima, a fixed histogram for the 99th percentile,
and a heap of the ``worst`` worst samples.

Mergeable: ``a.merge(b)`` gives the state of one accumulator that saw a's batches then b's, so a
dataset can be cut into batches compared anywhere (another process, another machine) and the
statistics combined. Counts, maxima, histogram counters, the worst-sample heap (global indices)
and top-k counters merge exactly; the float sums (mean, norms, cosine) are added in merge order,
so merging per-batch statistics in batch order is bit-identical to updating one accumulator
batch by batch. ``to_state`` / ``from_state`` give a compact picklable form (the histogram
sparse), which is also what pickling uses.

p99 method: a fixed log-spaced histogram of absolute differences, ``BINS_PER_DECADE`` = 200 bins
per decade from 1e-30 to 1e30 (12,000 counters), plus counters for exact zeros, values below
1e-30, above 1e30 and infinities. The estimate is the geometric centre of the bin holding the
order statistic of rank ``ceil(0.99 * n)`` (NumPy's ``inverted_cdf`` percentile), clamped to the
observed maximum. It is within a factor 10**(1/400) of that order statistic: a relative error of
at most 0.58% (values below 1e-30 are reported as 1e-30; zero and inf are exact).
"""

from __future__ import annotations

import heapq
import math
from typing import Any

import numpy as np

from onnxproof.errors import UsageError
from onnxproof.results import OutputDatasetMetrics, WorstSample
from onnxproof.verification.metrics import (
    HISTOGRAM_BINS_PER_DECADE,
    HISTOGRAM_LOG10_RANGE,
    agreeing_nonfinite,
    float_closeness,
    histogram_record,
    is_exact_dtype,
    reference_rms,
)
from onnxproof.verification.tolerance import small_output_diverged

#: Histogram resolution for p99: bin edges are 10**(k / BINS_PER_DECADE).
BINS_PER_DECADE = 200
_LOG_MIN, _LOG_MAX = -30, 30
_NBINS = (_LOG_MAX - _LOG_MIN) * BINS_PER_DECADE
#: Quantile reported as p99; a fraction, not a tolerance.
_P99 = 0.99


class OutputStats:
    """Accumulates one output's comparison batch by batch (first axis = samples)."""

    def __init__(
        self,
        name: str,
        *,
        atol: float,
        rtol: float,
        worst: int = 5,
        topk: tuple[int, ...] = (),
        judges_scale: bool = False,
    ) -> None:
        if worst < 0:
            raise ValueError(f"worst must be >= 0, got {worst}")
        if any(k < 1 for k in topk):
            raise ValueError(f"top-k values must be >= 1, got {topk}")
        self.name, self.atol, self.rtol, self.worst = name, atol, rtol, worst
        self.topk = tuple(sorted(set(topk)))
        self._dtype = ""
        self._samples = self._elements = self._mismatches = 0
        self._max_abs = self._sum_abs = self._max_needed = 0.0
        self._max_rel_nonzero = 0.0  # max of |d| / |b| over elements with |b| > 0
        self._any_nonzero_ref = self._any_diff = False
        self._sq_diff = self._sq_ref = 0.0  # for rel_l2
        self._dot = self._sq_a_finite = self._sq_b_finite = 0.0  # for cosine
        self._hist = np.zeros(_NBINS, dtype=np.int64)
        self._zeros = self._underflow = self._overflow = self._infs = 0
        self._heap: list[tuple[float, int, float]] = []  # (max_abs, -index, max_rel), min-heap
        self._rows = 0
        self._classes: int | None = None
        self._agree = dict.fromkeys(self.topk, 0)
        # exempt pairs, reference elements NaN/inf and all seen, samples with an all-NaN
        # reference, pairs finite on both sides (for the output's RMS scale)
        self._nonfinite_pairs = self._ref_nonfinite = self._ref_elements = 0
        self._samples_ref_nan = self._finite_pairs = 0
        self._noise_sq = self._noise_ref = 0.0  # PyTorch's own change under a one-ulp nudge
        #: Judged by relative L2 error too when small next to atol (the policy says which).
        self.judges_scale = judges_scale

    def update(self, actual: np.ndarray, reference: np.ndarray, *, first_index: int) -> None:
        """Add one batch; sample ``i`` of it has global index ``first_index + i``."""
        actual, reference = np.asarray(actual), np.asarray(reference)
        if actual.shape != reference.shape:
            raise ValueError(
                f"output {self.name!r}: shape {list(actual.shape)} where the reference has "
                f"{list(reference.shape)}"
            )
        if actual.ndim == 0:
            raise ValueError(f"output {self.name!r} has no batch axis (a scalar)")
        if self.topk and actual.ndim < 2:
            raise UsageError(
                f"output {self.name!r} has shape {list(actual.shape)}: top-1/top-5 agreement "
                "(--task classification) needs a class axis after the batch",
                hint="leave --task out for this model, or give it outputs of [batch, classes]",
            )
        self._dtype = self._dtype or reference.dtype.name
        n = actual.shape[0]
        self._samples += n
        if n == 0:
            return
        exact = is_exact_dtype(actual.dtype) and is_exact_dtype(reference.dtype)
        if not exact:
            actual = self._drop_nan_samples(actual, reference)
        a, b, diff, needed, close = _compare(actual, reference, self.atol, self.rtol, exact)
        abs_b = np.where(np.isfinite(b), np.abs(b), 0.0)
        exempt = np.zeros(diff.shape, bool) if exact else agreeing_nonfinite(a, b)
        pairs = int(np.count_nonzero(exempt))
        self._nonfinite_pairs += pairs
        self._ref_nonfinite += int(np.count_nonzero(~np.isfinite(b)))
        self._ref_elements += b.size
        self._finite_pairs += int(np.count_nonzero(np.isfinite(a) & np.isfinite(b)))
        self._elements += diff.size - pairs
        self._mismatches += int(diff.size - np.count_nonzero(close))
        if diff.size:
            self._max_abs = max(self._max_abs, float(diff.max()))
            self._sum_abs += float(diff.sum())
            self._max_needed = max(self._max_needed, float(needed.max()))
            self._any_diff = self._any_diff or bool(diff.any())
            self._sq_diff += float(np.square(diff).sum())
            self._sq_ref += float(np.square(abs_b).sum())
            finite = np.isfinite(a) & np.isfinite(b)
            af, bf = np.where(finite, a, 0.0), np.where(finite, b, 0.0)
            self._dot += float(np.dot(af.ravel(), bf.ravel()))
            self._sq_a_finite += float(np.square(af).sum())
            self._sq_b_finite += float(np.square(bf).sum())
            self._add_histogram(diff[~exempt])
        rows_abs, rows_rel = self._per_sample(diff.reshape(n, -1), abs_b.reshape(n, -1))
        self._add_worst(rows_abs, rows_rel, first_index)
        if self.topk:
            self._add_topk(actual, reference)

    def add_noise(self, sq_change: float, sq_reference: float) -> None:
        """PyTorch's own change under a one-ulp nudge of the batch (``noise.reference_noise``)."""
        self._noise_sq += sq_change
        self._noise_ref += sq_reference

    def merge(self, other: OutputStats) -> OutputStats:
        """Add the batches ``other`` saw (after this one's); returns self. Same output, same
        tolerances and settings required: merging two different comparisons is a bug."""
        mine = (self.name, self.atol, self.rtol, self.worst, self.topk)
        theirs = (other.name, other.atol, other.rtol, other.worst, other.topk)
        if mine != theirs:
            raise ValueError(f"cannot merge statistics of {theirs} into {mine}")
        self._dtype = self._dtype or other._dtype
        self._samples += other._samples
        self._elements += other._elements
        self._mismatches += other._mismatches
        self._max_abs = max(self._max_abs, other._max_abs)
        self._sum_abs += other._sum_abs
        self._max_needed = max(self._max_needed, other._max_needed)
        self._max_rel_nonzero = max(self._max_rel_nonzero, other._max_rel_nonzero)
        self._any_nonzero_ref = self._any_nonzero_ref or other._any_nonzero_ref
        self._any_diff = self._any_diff or other._any_diff
        self._sq_diff += other._sq_diff
        self._sq_ref += other._sq_ref
        self._dot += other._dot
        self._sq_a_finite += other._sq_a_finite
        self._sq_b_finite += other._sq_b_finite
        self._hist += other._hist
        self._zeros += other._zeros
        self._underflow += other._underflow
        self._overflow += other._overflow
        self._infs += other._infs
        self._nonfinite_pairs += other._nonfinite_pairs
        self._ref_nonfinite += other._ref_nonfinite
        self._ref_elements += other._ref_elements
        self._samples_ref_nan += other._samples_ref_nan
        self._finite_pairs += other._finite_pairs
        self._noise_sq += other._noise_sq
        self._noise_ref += other._noise_ref
        # Entries are unique (global indices), so the N largest of the union are exactly what
        # one heap fed every sample would hold.
        self._heap = heapq.nlargest(self.worst, self._heap + other._heap)
        heapq.heapify(self._heap)
        self._rows += other._rows
        self._classes = other._classes if other._classes is not None else self._classes
        for k in self.topk:
            self._agree[k] += other._agree[k]
        return self

    def to_state(self) -> dict[str, Any]:
        """Everything the accumulator holds, as plain values (the histogram as its non-zero
        bins): small to send between processes, and ``from_state`` rebuilds it exactly."""
        state = {k: v for k, v in vars(self).items() if k != "_hist"}
        bins = np.flatnonzero(self._hist)
        state["_hist_bins"], state["_hist_counts"] = bins.astype(np.int32), self._hist[bins]
        state["_heap"] = list(self._heap)
        state["_agree"] = dict(self._agree)
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> OutputStats:
        stats = cls.__new__(cls)
        stats.__setstate__(state)
        return stats

    def __getstate__(self) -> dict[str, Any]:
        return self.to_state()

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        hist = np.zeros(_NBINS, dtype=np.int64)
        hist[state.pop("_hist_bins")] = state.pop("_hist_counts")
        vars(self).update(state)
        self._hist = hist

    @property
    def mismatches(self) -> int:
        """Elements outside the tolerance so far (cheap: no histogram scan)."""
        return self._mismatches

    def result(self) -> OutputDatasetMetrics:
        """The figures so far (the accumulator stays usable)."""
        if self._any_nonzero_ref:
            max_rel = self._max_rel_nonzero
        else:
            max_rel = math.inf if self._any_diff else 0.0
        norm_ref = math.sqrt(self._sq_ref)
        norm_diff = math.sqrt(self._sq_diff)
        rel_l2 = norm_diff / norm_ref if norm_ref else (math.inf if norm_diff else 0.0)
        norm_a, norm_b = math.sqrt(self._sq_a_finite), math.sqrt(self._sq_b_finite)
        if norm_a and norm_b:
            cosine = max(-1.0, min(1.0, self._dot / (norm_a * norm_b)))
        else:
            cosine = 1.0 if norm_a == norm_b else 0.0
        worst = sorted(self._heap, key=lambda e: (-e[0], -e[1]))
        all_nonfinite = self._elements == 0 and self._ref_nonfinite > 0
        rms = reference_rms(self._sq_b_finite, self._finite_pairs)
        noise = self._noise_sq / self._noise_ref if self._noise_ref > 0 else None
        noise = math.sqrt(noise) if noise is not None else None
        small = self.judges_scale and small_output_diverged(rms, rel_l2, self.atol, noise)
        return OutputDatasetMetrics(
            name=self.name,
            dtype=self._dtype,
            atol=self.atol,
            rtol=self.rtol,
            samples=self._samples,
            elements=self._elements,
            max_abs_diff=self._max_abs,
            mean_abs_diff=self._sum_abs / self._elements if self._elements else 0.0,
            p99_abs_diff=self._p99(),
            max_rel_diff=max_rel,
            rel_l2_error=rel_l2,
            cosine_similarity=cosine,
            mismatch_fraction=self._mismatches / self._elements if self._elements else 0.0,
            min_passing_atol=max(0.0, self._max_needed),
            passed=self._samples > 0 and self._mismatches == 0 and not all_nonfinite and not small,
            worst_samples=tuple(
                WorstSample(index=-neg, max_abs_diff=abs_, max_rel_diff=rel)
                for abs_, neg, rel in worst
            ),
            # top-k with k >= the number of classes always agrees: it would prove nothing.
            histogram=histogram_record(self._coarse_histogram()) if self._elements else None,
            topk_agreement={
                f"top{k}": self._agree[k] / self._rows if self._rows else math.nan
                for k in self.topk
                if k == 1 or self._classes is None or k < self._classes
            },
            nonfinite_pairs=self._nonfinite_pairs,
            reference_nonfinite_fraction=(
                self._ref_nonfinite / self._ref_elements if self._ref_elements else 0.0
            ),
            reference_all_nonfinite=all_nonfinite,
            reference_rms=rms,
            reference_noise=noise,
            small_output_diverged=small,
            samples_reference_nan=self._samples_ref_nan,
        )

    # --- internals ------------------------------------------------------------------------

    def _drop_nan_samples(self, actual: np.ndarray, reference: np.ndarray) -> np.ndarray:
        """``actual`` with NaN wherever the sample's reference is NaN in every element: such a
        sample has nothing to judge against, and its pairs become exempt (not compared)."""
        n = reference.shape[0]
        flat = reference.reshape(n, -1)
        if flat.shape[1] == 0:
            return actual
        rows = np.isnan(flat.astype(np.float64)).all(axis=1)
        if not rows.any():
            return actual
        self._samples_ref_nan += int(np.count_nonzero(rows))
        shape = (n,) + (1,) * (actual.ndim - 1)
        return np.where(rows.reshape(shape), np.nan, actual.astype(np.float64))

    def _add_histogram(self, diff: np.ndarray) -> None:
        flat = diff.ravel()
        self._zeros += int(np.count_nonzero(flat == 0))
        self._infs += int(np.count_nonzero(np.isinf(flat)))
        positive = flat[(flat > 0) & np.isfinite(flat)]
        self._underflow += int(np.count_nonzero(positive < 10.0**_LOG_MIN))
        self._overflow += int(np.count_nonzero(positive >= 10.0**_LOG_MAX))
        inside = positive[(positive >= 10.0**_LOG_MIN) & (positive < 10.0**_LOG_MAX)]
        bins = np.floor((np.log10(inside) - _LOG_MIN) * BINS_PER_DECADE).astype(np.int64)
        self._hist += np.bincount(np.clip(bins, 0, _NBINS - 1), minlength=_NBINS)

    def _coarse_histogram(self) -> np.ndarray:
        """The fine p99 histogram summed into the coarse bins of ``metrics.log_histogram`` (their
        edges are fine edges: every coarse bin is a whole number of fine bins)."""
        group = BINS_PER_DECADE // HISTOGRAM_BINS_PER_DECADE
        start = (HISTOGRAM_LOG10_RANGE[0] - _LOG_MIN) * BINS_PER_DECADE
        stop = (HISTOGRAM_LOG10_RANGE[1] - _LOG_MIN) * BINS_PER_DECADE
        inside = self._hist[start:stop].reshape(-1, group).sum(axis=1)
        below = self._underflow + int(self._hist[:start].sum())
        above = self._overflow + self._infs + int(self._hist[stop:].sum())
        return np.concatenate([[self._zeros, below], inside, [above]]).astype(np.int64)

    def _p99(self) -> float:
        if not self._elements:
            return 0.0
        rank = max(1, math.ceil(_P99 * self._elements))  # 1-based order statistic
        seen = self._zeros
        if rank <= seen:
            return 0.0
        seen += self._underflow
        if rank <= seen:
            return min(10.0**_LOG_MIN, self._max_abs)
        cumulative = seen + np.cumsum(self._hist)
        if rank <= cumulative[-1]:
            k = int(np.searchsorted(cumulative, rank))
            centre = 10.0 ** (_LOG_MIN + (k + 0.5) / BINS_PER_DECADE)
            return min(centre, self._max_abs)
        if rank <= cumulative[-1] + self._overflow:
            return min(10.0**_LOG_MAX, self._max_abs)
        return math.inf

    def _per_sample(self, diff: np.ndarray, abs_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Max abs diff and max rel diff of every sample; updates the global relative maximum."""
        n, width = diff.shape
        if width == 0:
            return np.zeros(n), np.zeros(n)
        nonzero = abs_b > 0
        rel = np.divide(diff, abs_b, out=np.zeros_like(diff), where=nonzero)
        rel_max = rel.max(axis=1)
        has_nonzero = nonzero.any(axis=1)
        if has_nonzero.any():
            self._any_nonzero_ref = True
            self._max_rel_nonzero = max(self._max_rel_nonzero, float(rel_max[has_nonzero].max()))
        # the metrics.py rule per sample: no non-zero reference -> 0 if equal, else inf
        fallback = np.where(diff.any(axis=1), np.inf, 0.0)
        return diff.max(axis=1), np.where(has_nonzero, rel_max, fallback)

    def _add_worst(self, rows_abs: np.ndarray, rows_rel: np.ndarray, first_index: int) -> None:
        if not self.worst:
            return
        candidates = np.flatnonzero(rows_abs > 0)  # exactly matching samples are never "worst"
        if candidates.size > self.worst:  # only this batch's top few can enter the heap
            top = np.argpartition(-rows_abs[candidates], self.worst - 1)[: self.worst]
            candidates = np.sort(candidates[top])
        for i in candidates:
            entry = (float(rows_abs[i]), -(first_index + int(i)), float(rows_rel[i]))
            if len(self._heap) < self.worst:
                heapq.heappush(self._heap, entry)
            elif entry > self._heap[0]:  # ties keep the earlier sample
                heapq.heapreplace(self._heap, entry)

    def _add_topk(self, actual: np.ndarray, reference: np.ndarray) -> None:
        classes = actual.shape[-1]
        if classes == 0:  # no classes to rank (reshape(-1, 0) is undefined too)
            return
        a = actual.reshape(-1, classes).astype(np.float64)
        b = reference.reshape(-1, classes).astype(np.float64)
        valid = ~(np.isnan(a).any(axis=1) | np.isnan(b).any(axis=1))
        self._rows += a.shape[0]
        self._classes = classes
        ref_top = b.argmax(axis=1)
        for k in self.topk:
            if k == 1:
                agree = a.argmax(axis=1) == ref_top
            else:
                score = a[np.arange(a.shape[0]), ref_top]
                agree = np.count_nonzero(a > score[:, None], axis=1) < k
            self._agree[k] += int(np.count_nonzero(agree & valid))


def _compare(
    actual: np.ndarray, reference: np.ndarray, atol: float, rtol: float, exact: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, |a - b|, atol needed per element, close) as float64, the metrics.py way."""
    if exact:
        # unsigned values go through float64 so uint64 cannot wrap around in int64
        a = actual.astype(np.float64 if actual.dtype.kind == "u" else np.int64).astype(np.float64)
        b = reference.astype(np.float64 if reference.dtype.kind == "u" else np.int64)
        b = b.astype(np.float64)
        diff = np.abs(a - b)
        return a, b, diff, diff, actual == reference
    a, b = actual.astype(np.float64), reference.astype(np.float64)
    diff, _, needed, close = float_closeness(actual, reference, atol=atol, rtol=rtol)
    return a, b, diff, needed, close
