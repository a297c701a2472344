"""Property tests: spec strings and damaged .npz bytes give a result or an OnnxproofError, never a
crash of another type (which the CLI would report as a bug, exit 3)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from onnxproof.data import synthetic_cases
from onnxproof.data.files import open_data
from onnxproof.errors import OnnxproofError
from onnxproof.specs import DTYPES, TensorSpec, parse_input_spec, parse_input_specs

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- specs ---------------------------------------------------------------------------------

_NUMBER = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1e400", "-1e400", "inf", "nan", "1.5", ".5", "0", "-0", "1e-400", "+3"]),
)
_DIM = st.one_of(
    st.integers(-5, 2**40).map(str),
    st.sampled_from(["batch", "seq", "my-batch", "a.b", "a/b", "_x", "1a", "", " ", "class"]),
    st.tuples(st.sampled_from(["batch", "seq", "n"]), st.integers(-3, 2**36)).map(
        lambda t: f"{t[0]}={t[1]}"
    ),
)
_NEAR_VALID = st.builds(
    lambda name, dtype, dims, rng: f"{name}:{dtype}[{','.join(dims)}]{rng}",
    st.sampled_from(["x", "ids", "a.b/c-d", "_", "9x", "x y", ""]),
    st.one_of(st.sampled_from(sorted(DTYPES)), st.sampled_from(["complex64", "INT8", "", "u8"])),
    st.lists(_DIM, max_size=4),
    st.one_of(
        st.just(""),
        st.tuples(_NUMBER, _NUMBER).map(lambda t: f"{{{t[0]}..{t[1]}}}"),
        st.text(max_size=10).map(lambda t: f"{{{t}}}"),
    ),
)


@FUZZ
@given(st.one_of(st.text(max_size=60), _NEAR_VALID))
@example("x:int8[2]{0..300}")
@example("x:float32[]")
@example("x:float64[2]{-1e308..1e308}")
@example("x:int64[2]{-9223372036854775808..9223372036854775807}")
def test_parse_returns_a_spec_or_a_user_error(text: str) -> None:
    try:
        spec = parse_input_spec(text)
    except OnnxproofError:
        return
    assert isinstance(spec, TensorSpec)
    assert str(parse_input_spec(str(spec))) == str(spec)  # the printed form parses back the same


def _small(spec: TensorSpec) -> bool:
    # synthetic data draws every dynamic dim at up to 7: keep the fuzzed arrays small
    sizes = [max(d.size, 7) if d.dynamic else d.size for d in spec.dims]
    return int(np.prod(sizes, dtype=np.float64)) <= 4096


@FUZZ
@given(_NEAR_VALID, st.integers(-(2**40), 2**40))
@example("x:int64[2]{-9223372036854775808..9223372036854775807}", 0)
@example("b:bool[]", 0)
@example("h:float16[3]{-65504..65504}", -1)
def test_synthetic_data_for_valid_specs(text: str, seed: int) -> None:
    try:
        spec = parse_input_spec(text)
    except OnnxproofError:
        return
    if not _small(spec):
        return
    try:
        cases = list(synthetic_cases((spec,), seed=seed))
    except OnnxproofError:
        return
    for case in cases:
        value = case.feeds[spec.name]
        assert isinstance(value, np.ndarray) and value.ndim == len(spec.dims)
        if spec.value_range is not None and spec.dtype != "bool" and value.size:
            low, high = spec.value_range
            as_float = value.astype(np.float64)
            # bounds are floats; float16/bfloat16 rounding may land a hair outside them
            slack = 1e-2 * max(1.0, abs(low), abs(high))
            assert as_float.min() >= low - slack and as_float.max() <= high + slack


# --- damaged .npz -------------------------------------------------------------------------

SPECS = parse_input_specs(["x:float32[batch,4]", "ids:int64[batch]{0..9}"])


def _valid_npz(compressed: bool) -> bytes:
    buffer = io.BytesIO()
    save = np.savez_compressed if compressed else np.savez
    save(buffer, x=np.arange(24, dtype=np.float32).reshape(6, 4), ids=np.arange(6) % 10)
    return buffer.getvalue()


VALID = {False: _valid_npz(False), True: _valid_npz(True)}


@st.composite
def _damaged(draw: st.DrawFn) -> bytes:
    data = bytearray(VALID[draw(st.booleans())])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "splice", "zero", "insert"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[at:]
        elif kind == "splice":
            length = draw(st.integers(1, 64))
            data[at : at + length] = draw(st.binary(min_size=length, max_size=length))
        elif kind == "zero":
            data[at : at + draw(st.integers(1, 16))] = b"\x00" * 16
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
    return bytes(data)


@FUZZ
@given(_damaged())
def test_damaged_npz_yields_or_raises_a_data_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.npz"
    path.write_bytes(data)
    try:
        _, batches = open_data(path, SPECS, batch_size=4)
        for batch in batches:
            assert set(batch) == {"x", "ids"}
            assert batch["x"].shape[1:] == (4,) and batch["x"].shape[0] == batch["ids"].shape[0]
    except OnnxproofError:
        pass


@pytest.mark.parametrize("compressed", [False, True])
def test_the_undamaged_npz_reads_back(tmp_path: Path, compressed: bool) -> None:
    """The fuzz starts from a file that works, so a refusal there is the damage's doing."""
    path = tmp_path / "ok.npz"
    path.write_bytes(VALID[compressed])
    _, batches = open_data(path, SPECS, batch_size=4)
    assert [len(b["x"]) for b in batches] == [4, 2]
