from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from onnxproof.checking import check_model
from onnxproof.errors import UsageError


def _write(path: Path, nodes: list[onnx.NodeProto], out_shape: list[object]) -> Path:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    onnx.save(model, str(path))
    return path


def test_valid_file_info(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "ok.onnx", [helper.make_node("Relu", ["x"], ["y"], name="relu0")], ["batch", 4]
    )
    report = check_model(path)
    assert report.passed and report.checker_passed and report.shape_inference_passed
    assert report.info is not None
    assert str(report.info.inputs[0]) == "x: float32[batch, 4]"
    assert report.info.outputs[0].shape == ("batch", 4)
    assert report.info.opset_imports == {"ai.onnx": 18}
    assert report.info.node_count == 1 and report.info.op_counts == {"Relu": 1}
    assert report.info.file_size == path.stat().st_size


def test_checker_failure_names_the_node(tmp_path: Path) -> None:
    bad = helper.make_node("Relu", ["x", "x"], ["y"], name="too_many_inputs")
    report = check_model(_write(tmp_path / "bad.onnx", [bad], ["batch", 4]))
    assert not report.passed and not report.checker_passed
    assert report.checker_error is not None and "too_many_inputs" in report.checker_error


def test_unreadable_and_missing(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        check_model(tmp_path / "nope.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00\x01not a model")
    with pytest.raises(UsageError, match="is not an ONNX model"):
        check_model(junk)


def test_check_command_never_imports_torch(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "ok.onnx", [helper.make_node("Relu", ["x"], ["y"], name="r")], ["batch", 4]
    )
    code = (
        "import sys\n"
        "from onnxproof.cli import app\n"
        "for argv in (['--help'], ['check', sys.argv[1]], ['check', sys.argv[1], '--target', 'tensorrt']):\n"
        "    try:\n"
        "        app(argv)\n"
        "    except SystemExit as exit:\n"
        "        assert exit.code == 0, exit.code\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "False"
