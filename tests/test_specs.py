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


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("x:int8[2]{0..300}", "does not fit int8, which holds -128..127"),
        ("x:uint8[2]{-1..10}", "does not fit uint8, which holds 0..255"),
        ("x:int32[2]{0..3000000000}", "does not fit int32"),
        ("x:int64[2]{0..1e19}", "does not fit int64"),
        ("x:int64[2]{0.5..9}", "fractional bound"),
        ("x:float16[2]{0..1e5}", "does not fit float16, whose largest finite value is 65504"),
        ("x:float32[2]{0..1e400}", "does not fit float32"),
        ("x:float64[2]{0..1e400}", "does not fit float64"),
        ("x:float64[2]{-1e308..1e308}", "wider than a float64 can span"),
        ("x:float32[2]{-inf..inf}", "is not finite"),
        ("x:float32[2]{nan..1}", "is not finite"),
        ("x:float32[2]{1..-1}", "low 1.0 is above high -1.0"),
        ("x:bool[2]{0..1}", "a bool input takes no value range"),
    ],
)
def test_value_ranges_the_dtype_cannot_hold(text: str, needle: str) -> None:
    with pytest.raises(InputSpecError) as info:
        parse_input_spec(text)
    assert needle in str(info.value)


def test_value_ranges_at_the_dtype_limits_are_kept() -> None:
    assert parse_input_spec("x:int8[2]{-128..127}").value_range == (-128.0, 127.0)
    assert parse_input_spec("x:uint8[2]{0..255}").value_range == (0.0, 255.0)
    assert parse_input_spec("x:float16[2]{-65504..65504}").value_range == (-65504.0, 65504.0)
    assert parse_input_spec("x:int64[2]{0..1e3}").value_range == (0.0, 1000.0)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("x:float32[100000000000]", "100,000,000,000 values, more than the 2,147,483,648"),
        ("x:float32[65536,65536]", "4,294,967,296 values"),
        ("x:float32[batch=70000,70000]", "more than the 2,147,483,648"),
        ("x:float32[-1,3]", "dim '-1' is negative"),
        ("x:float32[seq=-4]", "example size -4 for dim 'seq'"),
    ],
)
def test_sizes_that_cannot_be_allocated_or_are_negative(text: str, needle: str) -> None:
    with pytest.raises(InputSpecError) as info:
        parse_input_spec(text)
    assert needle in str(info.value)


@pytest.mark.parametrize("dim", ["my-batch", "a.b", "a/b"])
def test_dim_names_must_be_identifiers(dim: str) -> None:
    """torch.export.Dim rejects these; the dynamo exporter would fail and fall back silently."""
    with pytest.raises(InputSpecError) as info:
        parse_input_spec(f"x:float32[{dim},3]")
    assert f"dim name {dim!r} is not a Python identifier" in str(info.value)
    assert "a_b" in (info.value.hint or "") or "my_batch" in (info.value.hint or "")


def test_input_names_keep_their_wider_grammar() -> None:
    """ONNX value names are free strings; both exporters keep 'a.b/c-d' as given."""
    spec = parse_input_spec("encoder.input/ids-0:int64[batch]")
    assert spec.name == "encoder.input/ids-0" and spec.dynamic_dims == {0: "batch"}
