"""The runtime seam: lookup, availability, sessions that close, the reference's own inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from onnxproof import runtimes
from onnxproof.errors import RuntimeUnavailable
from tests import models


def test_unknown_and_missing_runtimes_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RuntimeUnavailable, match="unknown runtime 'nope'"):
        runtimes.get("nope")
    monkeypatch.setitem(runtimes.REGISTRY, "ghost", "onnxproof.runtimes._absent:Ghost")
    with pytest.raises(RuntimeUnavailable, match="cannot be imported"):
        runtimes.get("ghost")


def test_reference_gets_its_own_copy_of_the_inputs() -> None:
    runtime = runtimes.get(
        "torch", module=models.MutatesInput(), input_names=("x",), output_names=("y",)
    )
    feeds = {"x": np.ones((2, 3), dtype=np.float32)}
    with runtime.load("unused") as session:
        first = session.infer(feeds)["y"]
        second = session.infer(feeds)["y"]
    np.testing.assert_array_equal(feeds["x"], np.ones((2, 3), dtype=np.float32))
    np.testing.assert_array_equal(first, second)


def test_onnxruntime_session_closes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import onnxproof

    path = tmp_path / "s.onnx"
    onnxproof.export(models.SimpleNet(), inputs=["input:float32[batch,10]"], output=path)
    with runtimes.get("ort-cpu").load(str(path)) as session:
        out = session.infer({"input": torch.randn(3, 10).numpy()})
        assert out["output"].shape == (3, 3)
        assert session.providers == ("CPUExecutionProvider",)  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="closed"):
        session.infer({"input": np.zeros((1, 10), dtype=np.float32)})


def test_runtime_errors_are_raised_not_logged(tmp_path, capfd) -> None:  # type: ignore[no-untyped-def]
    import onnx
    from onnx import TensorProto, helper

    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [2, 5])
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "shape"], ["y"], name="rs")],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 5])],
        [shape],
    )
    path = tmp_path / "rs.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))
    with runtimes.get("ort-cpu").load(str(path)) as session:
        with pytest.raises(Exception, match="cannot be reshaped"):
            session.infer({"x": np.zeros((3, 5), dtype=np.float32)})
    assert "onnxruntime" not in capfd.readouterr().err  # ONNX Runtime's own log stays quiet


def test_gpu_providers_are_unavailable_rows_without_a_gpu_build() -> None:
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has the CUDA provider: the fallback check applies instead")
    for name in ("ort-cuda", "ort-tensorrt"):
        with pytest.raises(
            RuntimeUnavailable, match="onnxruntime-gpu in an environment of its own"
        ):
            runtimes.get(name)
