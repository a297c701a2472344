from __future__ import annotations

import numpy as np
import pytest

from onnxproof.data import DRAWS, case_sizes, synthetic_cases
from onnxproof.errors import InputSpecError, UsageError
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


def test_scalar_specs_give_rank_zero_arrays() -> None:
    specs = parse_input_specs(["x:float32[]", "i:int64[]", "b:bool[]", "h:bfloat16[]"])
    for case in synthetic_cases(specs):
        for name, value in case.feeds.items():
            assert isinstance(value, np.ndarray), name
            assert value.shape == (), name


def test_scalar_feeds_stay_rank_zero_as_tensors() -> None:
    from onnxproof.exporting import example_args

    specs = parse_input_specs(["x:float32[]", "b:bool[]"])
    args = example_args(specs, next(iter(synthetic_cases(specs))).feeds)
    assert [tuple(a.shape) for a in args] == [(), ()]


@pytest.mark.parametrize("seed", [-1, 2**32, 2**64])
def test_seeds_out_of_range_are_refused_at_the_call(seed: int) -> None:
    specs = parse_input_specs(["x:float32[2]"])
    with pytest.raises(
        UsageError, match=rf"seed {seed} is out of range: seeds are 0\.\.4294967295"
    ):
        synthetic_cases(specs, seed=seed)  # eager: no iteration needed
    assert list(synthetic_cases(specs, seed=2**32 - 1))


def test_integer_ranges_at_the_dtype_limits_do_not_wrap() -> None:
    specs = parse_input_specs(
        [
            "a:int8[64]{-128..127}",
            "u:uint8[64]{0..255}",
            "w:int64[64]{-9223372036854775808..9223372036854775807}",
        ]
    )
    for case in synthetic_cases(specs, sizes=[{}]):
        assert case.feeds["a"].dtype == np.int8 and case.feeds["u"].dtype == np.uint8
        assert case.feeds["w"].dtype == np.int64
        # a wrapped draw would put negatives in uint8's place; the range is wide enough to see both
        assert (case.feeds["a"] < 0).any() and (case.feeds["a"] > 0).any()


def test_case_sizes_past_the_element_limit_are_refused() -> None:
    specs = parse_input_specs(["x:float32[batch,20000,20000]"])  # 8e8 values at batch=2
    with pytest.raises(InputSpecError, match="more than the 2,147,483,648"):
        synthetic_cases(specs)  # batch=7 would be 2.8e9 values
