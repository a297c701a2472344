"""metrics.compare on hand-made tables: NaN, ±inf, empty, int, bool, one outlier, shapes."""

from __future__ import annotations

import numpy as np
import pytest

from onnxproof.verification.metrics import compare, rel_l2


def test_identical_floats_pass() -> None:
    a = np.array([1.0, -2.0, 0.0], dtype=np.float32)
    c = compare(a, a.copy(), atol=0, rtol=0)
    assert c.passed and c.max_abs_diff == 0 and c.min_passing_atol == 0


def test_one_outlier() -> None:
    ref = np.zeros(1000, dtype=np.float32) + 1
    got = ref.copy()
    got[17] += 0.5
    c = compare(got, ref, atol=1e-4, rtol=1e-3)
    assert not c.passed
    assert c.mismatches == 1 and c.mismatch_fraction == pytest.approx(1e-3)
    assert c.max_abs_diff == pytest.approx(0.5)
    assert c.max_rel_diff == pytest.approx(0.5)
    # the smallest passing atol really passes, and anything smaller does not
    assert c.min_passing_atol == pytest.approx(0.5 - 1e-3)
    assert compare(got, ref, atol=c.min_passing_atol + 1e-9, rtol=1e-3).passed
    assert not compare(got, ref, atol=c.min_passing_atol - 1e-6, rtol=1e-3).passed


def test_relative_l2_over_cases_from_sums_of_squares() -> None:
    ref = np.array([3.0, 4.0, np.nan], dtype=np.float32)  # ||b|| = 5 over the finite elements
    got = np.array([3.0, 4.5, np.nan], dtype=np.float32)
    c = compare(got, ref, atol=1e-4, rtol=1e-3)
    assert (c.sq_diff, c.sq_ref) == (pytest.approx(0.25), pytest.approx(25.0))
    assert rel_l2(c.sq_diff, c.sq_ref) == pytest.approx(0.1)
    assert rel_l2(0.0, 0.0) == 0.0 and rel_l2(1.0, 0.0) == float("inf")


def test_nan_fails_unless_both_sides() -> None:
    ref = np.array([np.nan, 1.0])
    assert compare(np.array([np.nan, 1.0]), ref, atol=0, rtol=0).passed
    c = compare(np.array([0.0, 1.0]), ref, atol=1e9, rtol=1e9)
    assert not c.passed and c.max_abs_diff == float("inf")
    assert not compare(np.array([1.0, np.nan]), np.array([1.0, 1.0]), atol=1e9, rtol=0).passed


def test_infinities() -> None:
    ref = np.array([np.inf, -np.inf])
    assert compare(ref.copy(), ref, atol=0, rtol=0).passed
    assert not compare(np.array([np.inf, np.inf]), ref, atol=1e9, rtol=1e9).passed
    assert not compare(np.array([1e30, -np.inf]), ref, atol=1e9, rtol=1e9).passed


def test_empty() -> None:
    c = compare(np.zeros((0, 3)), np.zeros((0, 3)), atol=0, rtol=0)
    assert c.passed and c.elements == 0 and c.mismatch_fraction == 0


def test_integers_compare_exactly() -> None:
    ref = np.array([1, 2, 3], dtype=np.int64)
    assert compare(ref.copy(), ref, atol=10, rtol=10).passed
    c = compare(np.array([1, 2, 4], dtype=np.int64), ref, atol=10, rtol=10)
    assert not c.passed and c.mismatches == 1 and c.max_abs_diff == 1


def test_bools_compare_exactly() -> None:
    ref = np.array([True, False])
    assert compare(ref.copy(), ref, atol=0, rtol=0).passed
    assert not compare(np.array([True, True]), ref, atol=1, rtol=1).passed


def test_shape_mismatch_is_reported_not_broadcast() -> None:
    c = compare(np.zeros((2, 3)), np.zeros((1, 3)), atol=1, rtol=1)
    assert not c.passed and c.shape_error is not None and "[2, 3]" in c.shape_error


def test_relative_error_skips_zero_reference() -> None:
    c = compare(np.array([1e-6, 2.0]), np.array([0.0, 1.0]), atol=1e-5, rtol=0)
    assert c.max_rel_diff == pytest.approx(1.0)


def test_log_histogram_bins_every_element_once() -> None:
    from onnxproof.verification.metrics import HISTOGRAM_EDGES, log_histogram

    diff = np.array([0.0, 1e-12, 1e-10, 2e-10, 5e-4, 1e-4, 9.99e3, 1e4, np.inf])
    counts = log_histogram(diff)
    assert counts.sum() == diff.size
    assert counts[0] == 1 and counts[1] == 1 and counts[-1] == 2  # zero; below 1e-10; >= 1e4
    bins = counts[2:-1]
    # 1e-10 and 2e-10 share the first bin [1e-10, 10**-9.5); 1e-4 opens its own bin
    assert bins[0] == 2
    assert bins[HISTOGRAM_EDGES.index(1e-4)] == 1 and bins[HISTOGRAM_EDGES.index(1e-4) + 1] == 1
    assert bins[-1] == 1


def test_comparison_histogram_counts_elements_and_nan_as_infinite() -> None:
    reference = np.zeros((3, 4), dtype=np.float32)
    actual = reference + 1e-3
    actual[0, 0] = np.nan
    comparison = compare(actual, reference, atol=1e-4, rtol=0.0)
    assert comparison.histogram is not None
    assert comparison.histogram.sum() == 12 and comparison.histogram[-1] == 1  # NaN: infinite
    mismatched = compare(np.zeros((2, 2)), np.zeros((2, 3)), atol=1e-4, rtol=0.0)
    assert mismatched.histogram is None
