"""Sizes just past a dim's upper bound come after every other size, so indices hold."""

from __future__ import annotations

from onnxproof.data import case_sizes, synthetic_cases
from onnxproof.specs import parse_input_specs


def test_the_size_past_a_bound_is_added_last() -> None:
    specs = parse_input_specs(["x:float32[batch,seq=8,4]"])
    usual = case_sizes(specs)
    bounded = case_sizes(specs, {"seq": 16, "batch": 6})
    assert bounded[: len(usual)] == usual
    # batch=7 alone is among the usual sizes already: only seq's is new.
    assert bounded[len(usual) :] == [{"batch": 2, "seq": 17}]
    before = list(synthetic_cases(specs))
    after = list(synthetic_cases(specs, sizes=bounded))
    assert all((a.feeds["x"] == b.feeds["x"]).all() for a, b in zip(before, after, strict=False))
    assert [c.sizes for c in after[len(before) :]] == [{"batch": 2, "seq": 17}] * 4


def test_a_bound_too_big_to_generate_is_not_tried() -> None:
    specs = parse_input_specs(["x:float32[batch,seq=8,4096]"])
    assert case_sizes(specs, {"seq": 2**20}) == case_sizes(specs)
