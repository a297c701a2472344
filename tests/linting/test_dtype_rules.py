"""A file whose output type is not the model's fails, though the values agree."""

from __future__ import annotations

from pathlib import Path

import onnx
import torch
from onnx import TensorProto, helper

import onnxproof


class _Argmax(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.argmax(-1)


class _Identity(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 1.0


def _file(path: Path, nodes: list[onnx.NodeProto], out_type: int, out_shape: list) -> Path:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("output", out_type, out_shape)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_int32_indices_where_pytorch_returns_int64_fail(tmp_path: Path) -> None:
    path = _file(
        tmp_path / "a.onnx",
        [
            helper.make_node("ArgMax", ["x"], ["i"], axis=-1, keepdims=0),
            helper.make_node("Cast", ["i"], ["output"], to=TensorProto.INT32),
        ],
        TensorProto.INT32,
        ["batch"],
    )
    report = onnxproof.verify(_Argmax(), path, inputs=["x:float32[batch,4]"])
    found = [f for f in report.findings if f.code == "output-dtype-mismatch"]
    assert report.status == "fail"
    assert [f.message for f in found] == [
        "output 'output' is int32 in the file where PyTorch returns int64"
    ]
    assert report.verification is not None and report.verification.passed  # the values agree


def test_matching_types_raise_nothing(tmp_path: Path) -> None:
    path = _file(
        tmp_path / "b.onnx",
        [helper.make_node("Identity", ["x"], ["output"])],
        TensorProto.FLOAT,
        ["batch", 4],
    )
    report = onnxproof.verify(_Identity(), path, inputs=["x:float32[batch,4]"])
    assert report.status == "pass"
    assert not [f for f in report.findings if f.code == "output-dtype-mismatch"]


def test_a_loosened_tolerance_is_said_beside_the_pass(tmp_path: Path) -> None:
    path = _file(
        tmp_path / "c.onnx",
        [helper.make_node("Identity", ["x"], ["output"])],
        TensorProto.FLOAT,
        ["batch", 4],
    )
    inputs = ["x:float32[batch,4]"]
    report = onnxproof.verify(_Identity(), path, inputs=inputs, rtol=1e9)
    found = [f for f in report.findings if f.code == "tolerance-loosened"]
    assert report.status == "pass" and len(found) == 1
    assert found[0].severity.value == "warning" and "rtol 1e+09 (default 0.001)" in found[0].message
    assert (
        onnxproof.verify(_Identity(), path, inputs=inputs, rtol=1e9, fail_on="warning").status
        == "fail"
    )
    # Within ten times the default: nothing to say.
    report = onnxproof.verify(_Identity(), path, inputs=inputs, atol=5e-4)
    assert not [f for f in report.findings if f.code == "tolerance-loosened"]
