"""Target rules against the shipped profiles: each triggered by a tiny graph, and a clean one."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from onnxproof import check as check_model
from onnxproof.errors import UsageError
from onnxproof.linting import load_target, target_names


def _save(
    tmp_path: Path, nodes, dtype=TensorProto.FLOAT, opset=18, domain_opsets=(), shape=("batch", 4)
) -> Path:  # type: ignore[no-untyped-def]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", dtype, list(shape))],
        [helper.make_tensor_value_info("y", dtype, list(shape))],
    )
    opsets = [
        helper.make_opsetid("", opset),
        *(helper.make_opsetid(d, v) for d, v in domain_opsets),
    ]
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=opsets), str(path))
    return path


def _by_code(path: Path, target: str) -> dict[str, list]:  # type: ignore[type-arg]
    found: dict[str, list] = {}  # type: ignore[type-arg]
    for f in check_model(path, targets=[target]).findings:
        found.setdefault(f.code, []).append(f)
    return found


def test_profiles_load_and_name_sources() -> None:
    assert {"ort-cpu", "ort-web", "ort-mobile", "tensorrt", "openvino", "coreml"} <= set(
        target_names()
    )
    for name in target_names():
        profile = load_target(name)
        assert profile.sources and profile.runtime_version
    assert load_target("tensorrt").float64 == "unsupported"
    assert load_target("coreml").ops == {}


def test_clean_model_passes_every_onnx_target(tmp_path: Path) -> None:
    path = _save(tmp_path, [helper.make_node("Relu", ["x"], ["y"], name="r")], shape=(2, 4))
    for target in ("ort-cpu", "ort-web", "ort-mobile", "tensorrt", "openvino"):
        errors = [
            f for f in check_model(path, targets=[target]).findings if f.severity.value == "error"
        ]
        assert errors == [], target


def test_opset_too_new(tmp_path: Path) -> None:
    path = _save(tmp_path, [helper.make_node("Relu", ["x"], ["y"])], opset=25)
    (hit,) = _by_code(path, "tensorrt")["opset-too-new"]
    assert "25" in hit.message and "24" in hit.message and hit.target == "tensorrt"
    assert "opset-too-new" not in _by_code(path, "ort-cpu")


def test_unsupported_op_names_nodes(tmp_path: Path) -> None:
    path = _save(tmp_path, [helper.make_node("Det", ["x"], ["y"], name="det0")], shape=(4, 4))
    (hit,) = _by_code(path, "tensorrt")["unsupported-op"]
    assert hit.severity.value == "error" and hit.node == "det0" and "Det" in hit.message
    assert "unsupported-op" not in _by_code(path, "ort-cpu")


def test_op_on_unsupported_dtype_and_float64(tmp_path: Path) -> None:
    path = _save(
        tmp_path, [helper.make_node("Relu", ["x"], ["y"], name="r")], dtype=TensorProto.DOUBLE
    )
    found = _by_code(path, "tensorrt")
    assert any("Relu on float64" in f.message for f in found["unsupported-op"])
    float64 = [f for f in found["float64"] if f.target == "tensorrt"]
    assert float64 and float64[0].severity.value == "error"
    generic = [f for f in found["float64"] if f.target is None]
    assert generic and generic[0].severity.value == "warning"


def test_contrib_op_outside_ort(tmp_path: Path) -> None:
    node = helper.make_node("FastGelu", ["x"], ["y"], domain="com.microsoft", name="gelu")
    path = _save(tmp_path, [node], domain_opsets=[("com.microsoft", 1)])
    assert "unsupported-op" in _by_code(path, "tensorrt")
    assert "unsupported-op" not in _by_code(path, "ort-cpu")


def test_coreml_says_there_is_no_onnx_path_once(tmp_path: Path) -> None:
    path = _save(tmp_path, [helper.make_node("Relu", ["x"], ["y"])])
    findings = check_model(path, targets=["coreml"]).findings
    targeted = [f for f in findings if f.target == "coreml"]
    assert len(targeted) == 1 and targeted[0].code == "unsupported-op"
    assert "coremltools" in targeted[0].message


def test_dynamic_dims_on_partial_target_are_info(tmp_path: Path) -> None:
    path = _save(tmp_path, [helper.make_node("Relu", ["x"], ["y"])])
    (hit,) = _by_code(path, "tensorrt")["dynamic-shape-unsupported"]
    assert hit.severity.value == "info"


def test_unknown_target(tmp_path: Path) -> None:
    path = _save(tmp_path, [helper.make_node("Relu", ["x"], ["y"])])
    with pytest.raises(UsageError, match="unknown target 'tpu'"):
        check_model(path, targets=["tpu"])
