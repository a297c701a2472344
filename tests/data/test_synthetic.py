from __future__ import annotations

import numpy as np

from onnxproof.data import DRAWS, case_sizes, synthetic_cases
from onnxproof.specs import parse_input_specs


def test_sizes_cover_one_two_and_odd() -> None:
    specs = parse_input_specs(["x:float32[batch=4,seq=16,3]"])
    sizes = case_sizes(specs)
    assert sizes[0] == {"batch": 4, "seq": 16}
    assert {"batch": 1, "seq": 1} in sizes and {"batch": 2, "seq": 2} in sizes
    assert {"batch": 7, "seq": 7} in sizes


def test_same_index_same_arrays() -> None:
    specs = parse_input_specs(["x:float32[batch,10]", "ids:int64[batch]{0..49}"])
    first = list(synthetic_cases(specs, seed=3))
    second = list(synthetic_cases(specs, seed=3))
    for a, b in zip(first, second, strict=True):
        assert a.index == b.index
        np.testing.assert_array_equal(a.feeds["x"], b.feeds["x"])
        np.testing.assert_array_equal(a.feeds["ids"], b.feeds["ids"])
    other = next(iter(synthetic_cases(specs, seed=4)))
    assert not np.array_equal(other.feeds["x"], first[0].feeds["x"])


def test_draws_span_both_signs_and_scales() -> None:
    specs = parse_input_specs(["x:float32[batch,10]"])
    cases = [c for c in synthetic_cases(specs) if c.sizes == {"batch": 2}]
    by_draw = {c.draw: c.feeds["x"] for c in cases}
    assert set(by_draw) == set(DRAWS)
    assert (by_draw["positive"] > 0).all() and (by_draw["negative"] < 0).all()
    assert np.abs(by_draw["wide"]).max() > 3
    assert by_draw["normal"].dtype == np.float32


def test_integer_ranges_and_bools() -> None:
    specs = parse_input_specs(["ids:int64[batch,seq=8]{5..9}", "m:bool[batch]", "n:int32[4]"])
    for case in synthetic_cases(specs):
        ids = case.feeds["ids"]
        assert ids.dtype == np.int64 and ids.min() >= 5 and ids.max() <= 9
        assert case.feeds["m"].dtype == np.bool_
        assert case.feeds["n"].max() <= 9
