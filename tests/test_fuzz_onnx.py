"""Fuzz check and lint with mutated bytes of a small valid model.

Whatever the bytes, the answer is a CheckReport (with findings) or an OnnxproofError: never
another exception, and through the CLI never exit 3 or a traceback.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

import onnxproof
from onnxproof.cli import app
from onnxproof.errors import OnnxproofError
from onnxproof.linting import STRICT_ENV, target_names
from onnxproof.pipeline._lint import checked as check_model
from onnxproof.results import CheckReport, Finding


def _seed_model() -> bytes:
    """Small, valid, and touching what the rules read: Dropout's flag, shape constants, dtypes,
    Constant nodes, a subgraph, exporter metadata."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])
    shape = numpy_helper.from_array(np.array([-1, 4], np.int64), "shape")
    train = numpy_helper.from_array(np.array(False), "train")
    branch = helper.make_graph(
        [helper.make_node("Identity", ["r"], ["b"], name="inner")],
        "branch",
        [],
        [helper.make_tensor_value_info("b", TensorProto.FLOAT, None)],
    )
    nodes = [
        helper.make_node(
            "Constant", [], ["half"], value=numpy_helper.from_array(np.float16(0.5)), name="c"
        ),
        helper.make_node("Dropout", ["x", "", "train"], ["d"], name="/drop/Dropout"),
        helper.make_node("Reshape", ["d", "shape"], ["r"], name="/body/Reshape"),
        helper.make_node(
            "Constant", [], ["cond"], value=numpy_helper.from_array(np.array(True)), name="k"
        ),
        helper.make_node("If", ["cond"], ["y"], then_branch=branch, else_branch=branch, name="if"),
    ]
    helper.set_metadata_props(nodes[1], {"pkg.torch.onnx.name_scopes": "['', 'drop', 'Dropout']"})
    graph = helper.make_graph(nodes, "g", [x], [y], initializer=[shape, train])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    helper.set_model_props(model, {"onnxproof.inputs": "x:float32[batch,4]"})
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString()


SEED = _seed_model()
TARGETS = target_names()

_position = st.integers(min_value=0, max_value=len(SEED))
MUTATION = st.one_of(
    st.tuples(st.just("flip"), _position, st.integers(min_value=1, max_value=255)),
    st.tuples(st.just("truncate"), _position),
    st.tuples(st.just("splice"), _position, _position, _position),
    st.tuples(st.just("insert"), _position, st.binary(min_size=1, max_size=16)),
)
MUTATIONS = st.lists(MUTATION, min_size=1, max_size=4)


def _mutate(data: bytes, mutations: list[tuple]) -> bytes:  # type: ignore[type-arg]
    buffer = bytearray(data)
    for kind, at, *rest in mutations:
        at = at % (len(buffer) + 1)
        if kind == "flip" and at < len(buffer):
            buffer[at] ^= rest[0]
        elif kind == "truncate":
            del buffer[at:]
        elif kind == "splice":  # copy a run of the file over another place in it
            start, end = sorted(p % (len(buffer) + 1) for p in rest)
            buffer[at:at] = buffer[start:end]
        elif kind == "insert":
            buffer[at:at] = rest[0]
    return bytes(buffer)


def _bounded(examples: int) -> settings:
    """A fixed number of examples, no deadline (checks vary in time), nothing saved to disk."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


@pytest.fixture
def strict(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule that raises fails the test rather than being skipped: each must guard itself."""
    monkeypatch.setenv(STRICT_ENV, "1")


def test_the_seed_is_clean(tmp_path: Path, strict: None) -> None:
    path = tmp_path / "seed.onnx"
    path.write_bytes(SEED)
    report = check_model(path, targets=TARGETS)
    assert report.passed and "stochastic-op" not in {f.code for f in report.findings}


@_bounded(150)
@given(mutations=MUTATIONS)
def test_check_and_lint_answer_any_bytes(
    mutations: list[tuple],  # type: ignore[type-arg]
    tmp_path: Path,
    strict: None,
) -> None:
    path = tmp_path / "fuzz.onnx"
    path.write_bytes(_mutate(SEED, mutations))
    try:
        report = check_model(path, targets=TARGETS)
        findings = onnxproof.lint(path)
    except OnnxproofError:
        return
    assert isinstance(report, CheckReport)
    assert all(isinstance(f, Finding) for f in findings)
    if not report.passed:  # a file the checker rejects never lints clean
        assert "invalid-model" in {f.code for f in findings}


@_bounded(20)
@given(mutations=MUTATIONS)
def test_check_command_exits_0_1_or_2_on_any_bytes(
    mutations: list[tuple],  # type: ignore[type-arg]
    tmp_path: Path,
) -> None:
    path = tmp_path / "fuzz.onnx"
    path.write_bytes(_mutate(SEED, mutations))
    args = ["check", str(path), "--json", str(tmp_path / "report.json"), "--target", "ort-web"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and "internal error" not in result.output
