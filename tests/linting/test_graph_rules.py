"""Each graph rule on a tiny ONNX graph that triggers it and one that does not."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from onnxproof.linting import STRICT_ENV, graph_rules
from onnxproof.linting._base import GraphContext, Rule
from onnxproof.pipeline._lint import checked as check_model
from onnxproof.results import Finding


def _model(nodes, inputs, outputs, initializers=()):  # type: ignore[no-untyped-def]
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def _findings(tmp_path: Path, model: onnx.ModelProto, **kwargs) -> list[Finding]:  # type: ignore[no-untyped-def]
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    return list(check_model(path, **kwargs).findings)


def _codes(findings: list[Finding]) -> set[str]:
    return {f.code for f in findings}


X = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])
Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])


def test_clean_graph_has_no_findings(tmp_path: Path) -> None:
    assert (
        _findings(tmp_path, _model([helper.make_node("Relu", ["x"], ["y"], name="r")], [X], [Y]))
        == []
    )


def test_random_op_is_stochastic(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("RandomUniformLike", ["x"], ["n"], name="noise"),
        helper.make_node("Add", ["x", "n"], ["y"], name="add"),
    ]
    findings = _findings(tmp_path, _model(nodes, [X], [Y]))
    (hit,) = [f for f in findings if f.code == "stochastic-op"]
    assert hit.node == "noise" and hit.severity.value == "error"


def test_dropout_in_training_mode_is_stochastic(tmp_path: Path) -> None:
    flag = helper.make_tensor("train", TensorProto.BOOL, [], [True])
    ratio = helper.make_tensor("ratio", TensorProto.FLOAT, [], [0.5])
    nodes = [helper.make_node("Dropout", ["x", "ratio", "train"], ["y"], name="drop")]
    assert "stochastic-op" in _codes(_findings(tmp_path, _model(nodes, [X], [Y], [flag, ratio])))
    off = helper.make_tensor("train", TensorProto.BOOL, [], [False])
    assert "stochastic-op" not in _codes(_findings(tmp_path, _model(nodes, [X], [Y], [off, ratio])))


def test_float64_warning_names_tensors(tmp_path: Path) -> None:
    xd = helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["batch", 4])
    nodes = [helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT, name="cast")]
    (hit,) = [f for f in _findings(tmp_path, _model(nodes, [xd], [Y])) if f.code == "float64"]
    assert hit.severity.value == "warning" and "x" in hit.message


def test_static_shape_warning(tmp_path: Path) -> None:
    xs = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])
    ys = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])
    findings = _findings(tmp_path, _model([helper.make_node("Relu", ["x"], ["y"])], [xs], [ys]))
    (hit,) = [f for f in findings if f.code == "static-shape"]
    assert "[2,4]" in hit.message and hit.severity.value == "warning"


def test_baked_dimension_against_declared_specs(tmp_path: Path) -> None:
    from onnxproof.specs import parse_input_specs

    xs = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])
    model = _model([helper.make_node("Relu", ["x"], ["y"])], [xs], [Y])
    findings = _findings(tmp_path, model, specs=parse_input_specs(["x:float32[batch,4]"]))
    (hit,) = [f for f in findings if f.code == "baked-dimension"]
    assert "'batch'" in hit.message and "fixes it to 2" in hit.message
    assert "baked-dimension" not in _codes(
        _findings(tmp_path, model, specs=parse_input_specs(["x:float32[2,4]"]))
    )


def test_external_data_info(tmp_path: Path) -> None:
    import numpy as np
    from onnx import numpy_helper

    weight = numpy_helper.from_array(np.ones((4, 4), dtype=np.float32), "w")
    model = _model([helper.make_node("MatMul", ["x", "w"], ["y"])], [X], [Y], [weight])
    onnx.save(
        model,
        str(tmp_path / "m.onnx"),
        save_as_external_data=True,
        location="m.onnx.data",
        size_threshold=0,
    )
    findings = check_model(tmp_path / "m.onnx").findings
    (hit,) = [f for f in findings if f.code == "external-data"]
    assert "m.onnx.data" in hit.message and hit.severity.value == "info"


def test_precision_sensitive_in_half(tmp_path: Path) -> None:
    xh = helper.make_tensor_value_info("x", TensorProto.FLOAT16, ["batch", 4])
    yh = helper.make_tensor_value_info("y", TensorProto.FLOAT16, ["batch", 4])
    nodes = [helper.make_node("Softmax", ["x"], ["y"], name="sm")]
    assert "precision-sensitive-op" in _codes(_findings(tmp_path, _model(nodes, [xh], [yh])))
    assert "precision-sensitive-op" not in _codes(_findings(tmp_path, _model(nodes, [X], [Y])))


class _Broken(Rule):
    """A rule with a bug: it raises on every model."""

    code = "float64"

    def check(self, context: GraphContext) -> Iterable[Finding]:
        raise IndexError("list index out of range")


def test_a_rule_that_raises_is_skipped_and_logged_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(graph_rules, "RULES", (_Broken(), *graph_rules.RULES))
    nodes = [helper.make_node("RandomUniformLike", ["x"], ["y"], name="noise")]
    monkeypatch.delenv(STRICT_ENV)
    with caplog.at_level(logging.INFO, logger="onnxproof.linting"):
        findings = _findings(tmp_path, _model(nodes, [X], [Y]))
    assert "stochastic-op" in _codes(findings)  # the other rules still ran
    assert "rule float64 skipped: IndexError: list index out of range" in caplog.text
    monkeypatch.setenv(STRICT_ENV, "1")  # the test suite's setting: bugs stay visible
    with pytest.raises(IndexError):
        _findings(tmp_path, _model(nodes, [X], [Y]))


def test_a_dim_named_but_fixed_is_reported_once_and_not_as_static(tmp_path: Path) -> None:
    """Two inputs share 'batch', which the file fixes to 2: one baked-dimension naming both
    inputs, and no static-shape telling the user to name a dim they already named."""
    from onnxproof.specs import parse_input_specs

    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["y"], name="add")],
        "g",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 4]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, [2, 4]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    specs = parse_input_specs(("a:float32[batch,4]", "b:float32[batch,4]"))
    found = _findings(tmp_path, model, specs=specs)
    baked = [f for f in found if f.code == "baked-dimension"]
    assert len(baked) == 1 and "'a' axis 0" in baked[0].message and "'b' axis 0" in baked[0].message
    assert not [f for f in found if f.code == "static-shape"]
    # Without specs (a file from elsewhere), an all-static input is still static-shape.
    assert [f.code for f in _findings(tmp_path, model) if f.code == "static-shape"] == [
        "static-shape",
        "static-shape",
    ]
