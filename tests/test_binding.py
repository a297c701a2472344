"""Binding inputs to forward parameters: by name when named after them, else by position."""

from __future__ import annotations

import pytest

from onnxproof.binding import bind_inputs, positional_parameters
from onnxproof.errors import InputSpecError
from tests import models, named_models


def test_keyword_only_parameter_binds_by_name() -> None:
    binding = bind_inputs(named_models.KeywordMask(), ["mask", "x"])
    assert binding.by_name and binding.positional == ("x",) and binding.keywords == ("mask",)
    assert binding.order == ("x", "mask")  # the forward's order, whatever order they came in


def test_skipped_optional_parameter_keeps_its_default() -> None:
    binding = bind_inputs(named_models.SkippedPast(), ["input_ids", "attention_mask"])
    assert binding.positional == ("input_ids",) and binding.keywords == ("attention_mask",)
    args, kwargs = binding.split({"input_ids": 1, "attention_mask": 2})
    assert args == (1,) and kwargs == {"attention_mask": 2}  # past is left to its default


def test_unknown_name_names_the_parameters() -> None:
    with pytest.raises(InputSpecError) as info:
        bind_inputs(named_models.KeywordMask(), ["x", "msk"])
    text = str(info.value)
    assert "['msk']" in text and "KeywordMask.forward(x, *, mask=...)" in text


def test_required_parameter_not_given_is_named() -> None:
    with pytest.raises(InputSpecError, match=r"requires \['input_ids'\]"):
        bind_inputs(named_models.SkippedPast(), ["attention_mask"])


def test_names_matching_no_parameter_bind_by_position() -> None:
    """As documented: inputs named input, input_0, ... go in the order given."""
    binding = bind_inputs(models.TwoInputs(), ["b", "a"])
    assert not binding.by_name and binding.positional == ("b", "a")


def test_forward_with_kwargs_takes_unknown_names() -> None:
    class Kw:
        def forward(self, x: object, **extra: object) -> object:
            return x

    binding = bind_inputs(Kw(), ["x", "scale"])
    assert binding.positional == ("x",) and binding.extras == ("scale",)
    assert binding.var_keyword == "extra"


def test_positional_parameters_name_example_inputs() -> None:
    assert positional_parameters(named_models.SkippedPast()) == [
        "input_ids",
        "past",
        "attention_mask",
    ]
    assert positional_parameters(named_models.KeywordMask()) == ["x"]


class _VarPast:
    """forward(input_ids, attention_mask, *past), as a decoder's step wrapper takes its cache."""

    def forward(self, input_ids, attention_mask, *past):  # type: ignore[no-untyped-def]
        return input_ids, attention_mask, past


def test_inputs_naming_no_parameter_fill_varargs_in_order() -> None:
    names = ["input_ids", "attention_mask", "past.0.key", "past.0.value"]
    binding = bind_inputs(_VarPast(), names)
    assert binding.by_name and binding.positional == tuple(names) and not binding.extras
    assert binding.call(_VarPast().forward, dict(zip(names, range(4), strict=True))) == (
        0, 1, (2, 3),
    )  # fmt: skip
    # *past is reached only once every parameter before it is given.
    with pytest.raises(InputSpecError, match="are not parameters of _VarPast.forward"):
        bind_inputs(_VarPast(), ["input_ids", "past.0.key"])


class _KwargsModel:
    def forward(self, input_ids, attention_mask=None, **kwargs):  # type: ignore[no-untyped-def]
        return input_ids


def test_a_name_one_letter_off_a_parameter_is_refused_not_passed_into_kwargs() -> None:
    """attention_masks would vanish into **kwargs and attention_mask stay None on both sides."""
    with pytest.raises(InputSpecError, match="did you mean 'attention_mask'"):
        bind_inputs(_KwargsModel(), ["input_ids", "attention_masks"])
    extra = bind_inputs(_KwargsModel(), ["input_ids", "pixel_values"])  # no parameter near it
    assert extra.extras == ("pixel_values",) and extra.var_keyword == "kwargs"
