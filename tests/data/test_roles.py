"""Roles in specs: padding masks and position ids, parsed, inferred from names, and generated."""

from __future__ import annotations

import numpy as np
import pytest

from onnxproof.data import synthetic_cases
from onnxproof.data.roles import fully_masked, padding_mask
from onnxproof.errors import InputSpecError
from onnxproof.specs import parse_input_spec, parse_input_specs


@pytest.mark.parametrize("dtype", ["int64", "bool", "float32"])
def test_padding_mask_rows_are_padded_right_then_left(dtype: str) -> None:
    rng = np.random.default_rng(0)
    mask = padding_mask((64, 3, 9), np.dtype(dtype), rng)
    assert mask.dtype == np.dtype(dtype) and mask.shape == (64, 3, 9)
    rows = mask.reshape(-1, 9).astype(np.int64)
    lengths = rows.sum(axis=1)
    assert lengths.min() >= 1  # never a row of zeros
    assert lengths.max() == 9 and len(set(lengths.tolist())) > 3  # lengths vary up to seq
    for index, (row, length) in enumerate(zip(rows, lengths, strict=True)):
        if index % 2 == 0:  # ones, then zeros
            assert row[:length].all() and not row[length:].any()
        else:  # every second row padded on the left: zeros, then ones
            assert row[9 - length :].all() and not row[: 9 - length].any()


def test_generated_cases_use_the_role() -> None:
    specs = parse_input_specs(
        [
            "ids:int64[batch,seq=8]{0..9}",
            "attention_mask:int64[batch,seq]",
            "position_ids:int64[batch,seq]",
        ]
    )
    for case in synthetic_cases(specs):
        mask, positions = case.feeds["attention_mask"], case.feeds["position_ids"]
        if mask.shape[-1]:
            assert mask.sum(axis=-1).min() >= 1
            assert (np.diff(mask[0::2], axis=-1) <= 0).all()  # ones, then zeros
            assert (np.diff(mask[1::2], axis=-1) >= 0).all()  # left-padded: zeros, then ones
        assert (positions == np.arange(positions.shape[-1])).all()


def test_roles_are_parsed_and_printed() -> None:
    assert parse_input_spec("m:bool[batch,seq]{padding}").role == "mask"
    pad = parse_input_spec("m:bool[batch,seq]{pad}")
    assert pad.role == "pad" and parse_input_spec(str(pad)) == pad
    spec = parse_input_spec("m:float32[batch,seq]{mask}")
    assert spec.role == "mask" and str(spec) == "m:float32[batch,seq]{mask}"
    assert parse_input_spec(str(spec)) == spec
    assert parse_input_spec("p:int64[batch,seq]{positions}").role == "positions"
    with pytest.raises(InputSpecError, match="position ids are integers"):
        parse_input_spec("p:float32[batch,seq]{positions}")
    with pytest.raises(InputSpecError, match="needs at least one dim"):
        parse_input_spec("m:int64[]{mask}")


def test_roles_inferred_from_names_only_without_a_range() -> None:
    specs = parse_input_specs(
        [
            "attention_mask:int64[batch,seq]",
            "src_key_padding_mask:bool[batch,seq]",
            "key_padding_mask:bool[batch,seq]",
            "memory_key_padding_mask:bool[batch,seq]",
            "encoder_padding_mask:int64[batch,seq]",
            "padding_mask:float32[batch,seq]",
            "position_ids:int64[batch,seq]",
            "ones_mask:int64[batch,seq]",
        ]
    )
    roles = {s.name: (s.role, s.role_inferred) for s in specs}
    assert roles == {
        "attention_mask": ("mask", True),
        # PyTorch's and fairseq's polarity: True marks padding
        "src_key_padding_mask": ("pad", True),
        "key_padding_mask": ("pad", True),
        "memory_key_padding_mask": ("pad", True),
        "encoder_padding_mask": ("pad", True),
        # transformers' polarity: 1 marks a token
        "padding_mask": ("mask", True),
        "position_ids": ("positions", True),
        "ones_mask": (None, False),
    }
    (given,) = parse_input_specs(["attention_mask:int64[batch,seq]{1..1}"])
    assert given.role is None and given.value_range == (1, 1)  # the user's range is kept


def test_dim_size_given_once_holds_for_every_input() -> None:
    specs = parse_input_specs(["ids:int64[batch,seq=16]", "mask:int64[batch,seq]"])
    assert [s.example_shape for s in specs] == [(2, 16), (2, 16)]
    specs = parse_input_specs(["mask:int64[batch=3,seq]", "ids:int64[batch,seq=16]"])
    assert [s.example_shape for s in specs] == [(3, 16), (3, 16)]
    with pytest.raises(InputSpecError, match="dim 'seq' has example size 4"):
        parse_input_specs(["a:float32[seq=4]", "b:float32[seq]", "c:float32[seq=8]"])


def test_fully_masked_zeroes_only_the_first_row() -> None:
    specs = parse_input_specs(["x:float32[batch=3,seq=4]", "attention_mask:int64[batch,seq]"])
    feeds = next(iter(synthetic_cases(specs))).feeds
    masked = fully_masked(feeds, specs)
    assert not masked["attention_mask"][0].any()
    assert (masked["attention_mask"][1:] == feeds["attention_mask"][1:]).all()
    assert (masked["x"] == feeds["x"]).all() and feeds["attention_mask"][0].any()


def test_pad_role_marks_padding_on_the_right() -> None:
    """True marks padding (PyTorch's key_padding_mask): each row False for the tokens, then True
    for the padding (every second row the other way round); never a row of only padding except
    the fully masked case's first row."""
    specs = parse_input_specs(["x:float32[batch,seq=6,4]", "src_key_padding_mask:bool[batch,seq]"])
    rows = []
    for case in synthetic_cases(specs):
        mask = case.feeds["src_key_padding_mask"]
        assert mask.dtype == np.bool_
        if not mask.shape[-1]:
            continue
        assert (~mask).sum(axis=-1).min() >= 1  # a token in every row
        steps = np.diff(mask.astype(np.int64), axis=-1)
        assert (steps[0::2] >= 0).all()  # tokens, then padding
        assert (steps[1::2] <= 0).all()  # every second row: padding, then tokens
        rows.extend(mask.reshape(-1, mask.shape[-1]).tolist())
    # right and left padding are exercised, as is a row with none
    assert any(row[0] is False and row[-1] is True for row in rows)
    assert any(row[0] is True and row[-1] is False for row in rows)
    assert any(not any(row) for row in rows)
    feeds = next(iter(synthetic_cases(specs))).feeds
    masked = fully_masked(feeds, specs)["src_key_padding_mask"]
    assert masked[0].all() and (masked[1:] == feeds["src_key_padding_mask"][1:]).all()
