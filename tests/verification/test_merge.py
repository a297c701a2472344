"""Mergeable statistics: per-batch stats merged in order equal one accumulator bit for bit; the
state survives pickling; the tally merges in batch order, once per batch id, and never passes a
run with samples missing."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from onnxproof.verification.dataset import BatchResult, DatasetTally
from onnxproof.verification.stats import OutputStats


def _batches(seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for n in (7, 1, 12, 5, 9):
        ref = rng.normal(size=(n, 6)).astype(np.float32)
        got = ref + rng.normal(scale=1e-7, size=ref.shape).astype(np.float32)
        out.append((got, ref))
    out[1][0][0, 2] = np.nan  # NaN on one side: an infinite difference
    out[3][0][2, 0] += 3.0  # an outlier at global sample 7 + 1 + 12 + 2 = 22
    out[4][1][0, :], out[4][0][0, :] = 0.0, 1e-9  # zero references: relative error falls back
    return out


def _new() -> OutputStats:
    return OutputStats("y", atol=1e-5, rtol=1e-4, worst=3, topk=(1, 5))


def test_merged_batches_equal_one_accumulator_exactly() -> None:
    whole, merged, first = _new(), _new(), 0
    for got, ref in _batches():
        whole.update(got, ref, first_index=first)
        part = _new()
        part.update(got, ref, first_index=first)
        merged.merge(part)
        first += len(ref)
    assert merged.result() == whole.result()  # every float too: the same additions, in order
    assert [w.index for w in merged.result().worst_samples][:2] == [7, 22]


def test_merge_is_exact_for_counts_and_p99_in_any_order() -> None:
    parts, first = [], 0
    for got, ref in _batches(1):
        part = _new()
        part.update(got, ref, first_index=first)
        parts.append(part)
        first += len(ref)
    forward, backward = _new(), _new()
    for part in parts:
        forward.merge(pickle.loads(pickle.dumps(part)))
    for part in reversed(parts):
        backward.merge(pickle.loads(pickle.dumps(part)))
    a, b = forward.result(), backward.result()
    for field in ("samples", "elements", "max_abs_diff", "p99_abs_diff", "max_rel_diff"):
        assert getattr(a, field) == getattr(b, field)
    assert a.worst_samples == b.worst_samples and a.histogram == b.histogram
    assert a.topk_agreement == b.topk_agreement
    assert a.mean_abs_diff == pytest.approx(b.mean_abs_diff, rel=1e-12)


def test_state_is_compact_and_exact() -> None:
    stats = _new()
    got, ref = _batches()[0]
    stats.update(got, ref, first_index=0)
    blob = pickle.dumps(stats)
    assert len(blob) < 10_000  # the 12,000-bin histogram travels as its non-zero bins
    assert pickle.loads(blob).result() == stats.result()


def test_merge_refuses_different_settings() -> None:
    with pytest.raises(ValueError, match="cannot merge"):
        _new().merge(OutputStats("y", atol=1.0, rtol=1e-4, worst=3, topk=(1, 5)))


def _result(batch_id: int, first: int, got: np.ndarray, ref: np.ndarray) -> BatchResult:
    stats = OutputStats("y", atol=1e-5, rtol=1e-4)
    stats.update(got, ref, first_index=first)
    return BatchResult(batch_id=batch_id, first_index=first, samples=len(ref), stats={"y": stats})


def _results() -> list[BatchResult]:
    out, first = [], 0
    for i, (got, ref) in enumerate(_batches()):
        out.append(_result(i, first, got, ref))
        first += len(ref)
    return out


def test_tally_order_and_duplicates_do_not_change_the_report() -> None:
    in_order, shuffled = DatasetTally(), DatasetTally()
    for r in _results():
        in_order.add(r)
    results = _results()
    for i in (3, 0, 4, 3, 1, 0, 2):  # out of order, batches 3 and 0 delivered twice
        shuffled.add(results[i])
    a = in_order.report(source="s", task=None, seconds=0, samples_expected=34)
    b = shuffled.report(source="s", task=None, seconds=0, samples_expected=34)
    assert shuffled.duplicates == 2 and a == b and a.samples == 34 and a.batches == 5
    assert in_order.first_failing == 1


def test_tally_with_a_batch_missing_or_wrong_count_is_an_error() -> None:
    ok = _batches()
    clean = [(ref.copy(), ref) for _, ref in ok]
    tally = DatasetTally()
    for i in (0, 2):
        tally.add(_result(i, 0, *clean[i]))
    report = tally.report(source="s", task=None, seconds=0, samples_expected=34)
    assert not report.passed and any("never came back" in e for e in report.errors)
    assert any("samples were lost" in e for e in report.errors)
    whole = DatasetTally()
    for i, pair in enumerate(clean):
        whole.add(_result(i, 0, *pair))
    assert whole.report(source="s", task=None, seconds=0, samples_expected=34).passed
    assert not whole.report(source="s", task=None, seconds=0, samples_expected=35).passed
