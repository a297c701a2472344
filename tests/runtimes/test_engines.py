"""OpenVINO (f32), tract and the onnx reference agree with ONNX Runtime on files onnxproof wrote;
every runtime refuses a feed whose dtype is not the model's.

Each case skips, saying why, when its runtime's package is not installed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import onnxproof
from onnxproof import runtimes
from onnxproof.errors import DataError
from tests import models

#: runtime name → the package it needs (None: always there).
ENGINES = {"openvino-f32": "openvino", "tract": "tract", "onnx-reference": None}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, tuple[int, ...]]]:
    """name → (ONNX file written by onnxproof, one input shape without the batch dim)."""
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("engines")
    mlp, cnn = folder / "mlp.onnx", folder / "cnn.onnx"
    onnxproof.export(models.SimpleNet(), inputs=["input:float32[batch,10]"], output=mlp)
    onnxproof.export(
        models.with_trained_stats(models.SmallCNN()),
        inputs=["x:float32[batch,3,16,16]"],
        output=cnn,
    )
    return {"mlp": (mlp, (10,)), "cnn": (cnn, (3, 16, 16))}


def _runtime(name: str) -> runtimes.Runtime:
    package = ENGINES.get(name)
    if package is not None:
        pytest.importorskip(package, reason=f"{name} needs the {package} package")
    availability = runtimes.runtime_class(name).availability()
    if not availability.available:  # the GPU providers, the JS runtimes without node
        pytest.skip(f"{name} cannot run here: {availability.install_hint}")
    return runtimes.get(name)


@pytest.mark.parametrize("model", ["mlp", "cnn"])
@pytest.mark.parametrize("name", list(ENGINES))
def test_engine_agrees_with_onnxruntime(name: str, model: str, files: dict) -> None:  # type: ignore[type-arg]
    runtime = _runtime(name)
    path, shape = files[model]
    rng = np.random.default_rng(0)
    with runtimes.get("ort-cpu").load(str(path)) as ort, runtime.load(str(path)) as session:
        assert session.input_names == ort.input_names
        assert session.output_names == ort.output_names
        assert session.input_dtypes == ort.input_dtypes
        for batch in (1, 4):
            feeds = {ort.input_names[0]: rng.standard_normal((batch, *shape), dtype=np.float32)}
            expected, got = ort.infer(feeds), session.infer(feeds)
            for out in ort.output_names:
                assert got[out].dtype == expected[out].dtype == np.float32
                np.testing.assert_allclose(got[out], expected[out], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "name", [n for n in runtimes.REGISTRY if n not in runtimes.MODULE_RUNTIMES]
)
def test_every_runtime_refuses_a_float64_feed(name: str, files: dict) -> None:  # type: ignore[type-arg]
    # OpenVINO would cast it to float32 silently; the onnx reference would compute in float64.
    runtime = _runtime(name)
    path, _ = files["mlp"]
    with runtime.load(str(path)) as session:
        feeds = {"input": np.ones((2, 10), dtype=np.float64)}
        with pytest.raises(
            DataError, match="input 'input' is float64 but the model declares float32"
        ):
            session.infer(feeds)
        assert session.infer({"input": np.ones((2, 10), dtype=np.float32)})["output"].shape == (
            2,
            3,
        )


def test_the_onnx_reference_states_its_cost(files: dict) -> None:  # type: ignore[type-arg]
    with runtimes.get("onnx-reference").load(str(files["cnn"][0])) as session:
        assert "300-460x on Conv" in session.details()["cost"]


def test_the_onnx_reference_gets_one_draw_per_size_of_the_same_cases(tmp_path: Path) -> None:
    torch.manual_seed(0)
    report = onnxproof.run(
        models.SimpleNet(),
        inputs=["input:float32[batch,10]"],
        runtimes=("ort-cpu", "onnx-reference"),
        output=tmp_path / "m.onnx",
    )
    full, capped = report.runtimes
    assert capped.runtime == "onnx-reference" and capped.passed
    assert len(full.cases) > 6 and 0 < len(capped.cases) <= 6
    assert {c.draw for c in capped.cases} == {"normal"}
    # The same cases by index: the arrays are those the other runtime was given.
    by_index = {c.index: c for c in full.cases}
    assert all(by_index[c.index].sizes == c.sizes for c in capped.cases)
    assert capped.details["cases"].startswith("capped: the 'normal' draw at each size")


def test_tract_errors_come_without_the_rust_backtrace(files: dict) -> None:  # type: ignore[type-arg]
    runtime = _runtime("tract")
    with runtime.load(str(files["mlp"][0])) as session:
        with pytest.raises(RuntimeError) as caught:
            session.infer({"input": np.ones((2, 7), dtype=np.float32)})  # 7 features, not 10
    assert "Stack backtrace" not in str(caught.value)
    assert "10=10 != 7" in str(caught.value)
    assert session.details()["threads"].startswith("1")
