"""OutputStats on hand-made batches: outliers, NaN/inf, exact dtypes, norms, p99, top-k, JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from onnxproof.verification.metrics import compare
from onnxproof.verification.stats import BINS_PER_DECADE, OutputStats


def _stats(*pairs: tuple[np.ndarray, np.ndarray], **kwargs: object) -> OutputStats:
    kwargs = {"atol": 1e-5, "rtol": 1e-4, **kwargs}
    stats = OutputStats("y", **kwargs)  # type: ignore[arg-type]
    index = 0
    for actual, reference in pairs:
        stats.update(actual, reference, first_index=index)
        index += len(reference)
    return stats


def test_outlier_in_second_batch_is_the_worst_sample() -> None:
    rng = np.random.default_rng(0)
    ref1, ref2 = rng.normal(size=(4, 6)), rng.normal(size=(3, 6))
    got1 = ref1 + 1e-7
    got2 = ref2.copy()
    got2[1, 2] += 0.5  # global sample 4 + 1 = 5
    got1[2, 0] += 0.01  # global sample 2: second worst
    result = _stats((got1, ref1), (got2, ref2), worst=2).result()
    assert [w.index for w in result.worst_samples] == [5, 2]
    assert result.worst_samples[0].max_abs_diff == pytest.approx(0.5)
    assert result.worst_samples[0].max_rel_diff == pytest.approx(0.5 / abs(ref2[1, 2]), rel=1e-6)
    assert result.samples == 7 and result.elements == 42
    assert result.max_abs_diff == pytest.approx(0.5)
    assert not result.passed
    assert result.mismatch_fraction == pytest.approx(2 / 42)


def test_exact_matches_are_not_listed_and_heap_is_bounded() -> None:
    ref = np.zeros((10, 3), dtype=np.float32)
    got = ref.copy()
    got[[1, 4, 7], 0] = [0.1, 0.3, 0.2]
    result = _stats((got[:5], ref[:5]), (got[5:], ref[5:]), worst=2).result()
    assert [w.index for w in result.worst_samples] == [4, 7]
    assert _stats((ref, ref)).result().worst_samples == ()


def test_nan_on_one_side_fails_both_sides_pass() -> None:
    ref = np.array([[np.nan, 1.0], [2.0, 3.0]], dtype=np.float32)
    assert _stats((ref.copy(), ref), atol=0, rtol=0).result().passed
    got = ref.copy()
    got[0, 0] = 0.0
    result = _stats((got, ref), atol=1e9, rtol=1e9).result()
    assert not result.passed and result.max_abs_diff == math.inf
    assert result.mismatch_fraction == pytest.approx(0.25)
    assert result.worst_samples[0].index == 0
    got2 = np.array([[1.0, 1.0]], dtype=np.float32)
    got2[0, 1] = np.nan
    assert not _stats((got2, np.ones((1, 2), np.float32)), atol=1e9, rtol=0).result().passed


def test_infinities() -> None:
    ref = np.array([[np.inf, -np.inf, 1.0]])
    assert _stats((ref.copy(), ref), atol=0, rtol=0).result().passed
    flipped = np.array([[-np.inf, -np.inf, 1.0]])
    result = _stats((flipped, ref)).result()
    assert not result.passed and result.max_abs_diff == math.inf
    finite = np.array([[1e30, -np.inf, 1.0]])
    assert not _stats((finite, ref), atol=1e31, rtol=0).result().passed
    assert result.to_dict()["max_abs_diff"] == "inf"


def test_integer_and_bool_are_exact() -> None:
    ref = np.array([[1, 2, 3]], dtype=np.int64)
    got = np.array([[1, 2, 4]], dtype=np.int64)
    result = _stats((got, ref), atol=10, rtol=10).result()
    assert not result.passed and result.max_abs_diff == 1 and result.min_passing_atol == 1
    assert _stats((ref.copy(), ref), atol=0, rtol=0).result().passed
    flags = np.array([[True, False]])
    assert _stats((flags.copy(), flags), atol=0, rtol=0).result().passed
    assert not _stats((~flags, flags), atol=5, rtol=5).result().passed
    big = np.array([[2**64 - 1]], dtype=np.uint64)
    assert not _stats((big, np.zeros_like(big)), atol=0, rtol=0).result().passed


def test_rel_l2_and_cosine_match_numpy_on_the_whole_dataset() -> None:
    rng = np.random.default_rng(1)
    refs = [rng.normal(size=(n, 5)).astype(np.float32) for n in (3, 4, 2)]
    gots = [r + rng.normal(scale=0.05, size=r.shape).astype(np.float32) for r in refs]
    result = _stats(*zip(gots, refs, strict=True)).result()
    a = np.concatenate(gots).astype(np.float64).ravel()
    b = np.concatenate(refs).astype(np.float64).ravel()
    assert result.rel_l2_error == pytest.approx(np.linalg.norm(a - b) / np.linalg.norm(b))
    cosine = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
    assert result.cosine_similarity == pytest.approx(cosine)
    assert result.mean_abs_diff == pytest.approx(np.abs(a - b).mean())
    assert result.max_rel_diff == pytest.approx(np.max(np.abs(a - b) / np.abs(b)))
    assert result.cosine_similarity < 1.0 and result.rel_l2_error > 0.01
    # the streamed figures agree with one compare() over the concatenated arrays
    whole = compare(a, b, atol=1e-5, rtol=1e-4)
    assert result.min_passing_atol == pytest.approx(whole.min_passing_atol)
    assert result.max_abs_diff == pytest.approx(whole.max_abs_diff)
    assert result.mismatch_fraction == pytest.approx(whole.mismatch_fraction)


def test_p99_within_documented_accuracy() -> None:
    rng = np.random.default_rng(2)
    ref = rng.normal(size=100_000)
    got = ref + rng.lognormal(mean=-8, sigma=2, size=ref.size) * rng.choice([-1, 1], ref.size)
    stats = OutputStats("y", atol=0, rtol=0)
    for start in range(0, ref.size, 4096):
        stats.update(got[start : start + 4096], ref[start : start + 4096], first_index=start)
    diffs = np.abs(got - ref)
    expected = np.percentile(diffs, 99, method="inverted_cdf")
    bound = 10 ** (1 / (2 * BINS_PER_DECADE)) - 1  # half a bin, as the docstring states
    estimate = stats.result().p99_abs_diff
    assert abs(estimate - expected) / expected <= bound
    assert estimate == pytest.approx(np.percentile(diffs, 99), rel=0.01)


def test_p99_zero_when_mostly_exact() -> None:
    ref = np.zeros((1000, 1))
    got = ref.copy()
    got[:5] = 1.0  # 0.5% differ: the 99th percentile is still an exact match
    assert _stats((got, ref)).result().p99_abs_diff == 0.0
    got[:20] = 1.0
    assert _stats((got, ref)).result().p99_abs_diff == pytest.approx(1.0)


def test_topk_agreement() -> None:
    ref = np.array(
        [
            [9.0, 1, 2, 3, 4, 5, 0],
            [1.0, 9, 2, 3, 4, 5, 0],
            [1.0, 2, 9, 3, 4, 5, 0],
            [1.0, 2, 3, 9, 4, 5, 0],
        ]
    )
    got = ref.copy()
    got[3, 3], got[3, 5] = 5.0, 9.0  # row 3: top-1 moves to class 5, class 3 ranks second
    stats = OutputStats("logits", atol=1e-3, rtol=0, topk=(1, 5))
    stats.update(got[:2], ref[:2], first_index=0)
    stats.update(got[2:], ref[2:], first_index=2)
    agreement = stats.result().topk_agreement
    assert agreement == {"top1": 0.75, "top5": 1.0}
    # the reference's class 3 ranks third in row 3 once class 4 scores above it
    got[3, 4] = 6.0
    stats2 = _stats((got, ref), topk=(2, 3))
    assert stats2.result().topk_agreement == {"top2": 0.75, "top3": 1.0}


def test_min_passing_atol_makes_compare_pass() -> None:
    ref = np.linspace(-3, 3, 24).reshape(4, 6)
    got = ref * 1.001
    got[2, 3] += 0.02
    rtol = 1e-4
    result = _stats((got[:2], ref[:2]), (got[2:], ref[2:]), atol=1e-6, rtol=rtol).result()
    assert not result.passed
    atol = result.min_passing_atol
    assert _stats((got, ref), atol=atol + 1e-12, rtol=rtol).result().passed
    assert not _stats((got, ref), atol=atol * 0.99, rtol=rtol).result().passed
    assert compare(got, ref, atol=atol + 1e-12, rtol=rtol).passed


def test_shape_mismatch_raises_with_both_shapes() -> None:
    stats = OutputStats("y", atol=0, rtol=0)
    with pytest.raises(ValueError, match=r"\[2, 3\].*\[2, 4\]"):
        stats.update(np.zeros((2, 3)), np.zeros((2, 4)), first_index=0)


def test_empty_dataset_does_not_pass() -> None:
    result = OutputStats("y", atol=1, rtol=1, topk=(1,)).result()
    assert result.samples == 0 and not result.passed
    data = result.to_dict()
    assert data["topk_agreement"] == {"top1": "nan"}
    json.dumps(data)


def test_to_dict_is_plain_json() -> None:
    ref = np.ones((2, 2))
    got = ref.copy()
    got[1, 1] = np.nan
    data = json.loads(json.dumps(_stats((got, ref), topk=(1,)).result().to_dict()))
    assert data["name"] == "y" and data["dtype"] == "float64"
    assert data["min_passing_atol"] == "inf" and data["passed"] is False
    assert data["worst_samples"] == [{"index": 1, "max_abs_diff": "inf", "max_rel_diff": "inf"}]
    assert data["topk_agreement"] == {"top1": 0.5}  # the NaN row disagrees


def test_topk_not_reported_when_k_covers_every_class() -> None:
    from onnxproof.verification.stats import OutputStats

    stats = OutputStats("logits", atol=1e-4, rtol=1e-3, topk=(1, 5))
    logits = np.arange(12, dtype=np.float32).reshape(4, 3)
    stats.update(logits, logits, first_index=0)
    assert set(stats.result().topk_agreement) == {"top1"}


def test_dataset_histogram_matches_the_parity_bins() -> None:
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(4, 50)).astype(np.float32)
    actual = reference + rng.normal(size=reference.shape) * 10.0 ** rng.uniform(-12, 5, (4, 50))
    actual[0, 0], actual[1, 1] = reference[0, 0], np.nan
    stats = OutputStats("y", atol=1e-4, rtol=1e-3)
    stats.update(actual[:2], reference[:2], first_index=0)
    stats.update(actual[2:], reference[2:], first_index=2)
    histogram = stats.result().histogram
    expected = compare(actual, reference, atol=1e-4, rtol=1e-3).histogram
    assert histogram is not None and expected is not None
    got = [histogram.zeros, histogram.below, *histogram.counts, histogram.above]
    assert got == expected.tolist() and histogram.total == actual.size
