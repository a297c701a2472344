from __future__ import annotations

import pytest

from onnxproof.errors import InputSpecError
from onnxproof.specs import parse_input_spec, parse_input_specs


def test_static_and_named_dims() -> None:
    spec = parse_input_spec("input:float32[batch,10]")
    assert spec.name == "input" and spec.dtype == "float32"
    assert spec.dynamic_dims == {0: "batch"}
    assert spec.example_shape == (2, 10)
    assert spec.shape_for({"batch": 7}) == (7, 10)
    assert str(spec) == "input:float32[batch,10]"


def test_example_size_and_range() -> None:
    spec = parse_input_spec("ids:int64[batch, seq=16]{0..30521}")
    assert spec.example_shape == (2, 16)
    assert spec.value_range == (0.0, 30521.0)
    assert spec.is_integer
    assert str(spec) == "ids:int64[batch,seq=16]{0..30521}"


def test_aliases_and_scalar() -> None:
    assert parse_input_spec("x:long[3]").dtype == "int64"
    assert parse_input_spec("t:float[]").dims == ()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("input[batch,10]", "is not of the form"),
        ("x:complex64[2]", "unknown dtype 'complex64'"),
        ("x:float32[batch,1.5]", "dim '1.5'"),
        ("x:float32[batch=1]", "example size 1"),
        ("x:int64[4]{9..1}", "low 9.0 is above high 1.0"),
        ("x:int64[4]{a..b}", "is not low..high"),
    ],
)
def test_errors_name_the_spec(text: str, needle: str) -> None:
    with pytest.raises(InputSpecError) as info:
        parse_input_spec(text)
    assert needle in str(info.value)
    assert text.split("[")[0] in str(info.value)


def test_duplicate_names_and_inconsistent_dims() -> None:
    with pytest.raises(InputSpecError, match="given twice"):
        parse_input_specs(["x:float32[2]", "x:float32[3]"])
    with pytest.raises(InputSpecError, match="dim 'seq' has example size 4"):
        parse_input_specs(["a:float32[seq=4]", "b:float32[seq=8]"])
