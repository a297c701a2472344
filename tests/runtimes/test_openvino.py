"""OpenVINO as deployed: the precision its CPU plugin chose is reported, and becomes a finding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import onnxproof
from onnxproof import runtimes
from onnxproof.linting.runtime_rules import precision_findings
from onnxproof.specs import Severity
from tests import models

ov = pytest.importorskip("openvino", reason="the openvino runtimes need the openvino package")


@pytest.fixture(scope="module")
def mlp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("openvino") / "mlp.onnx"
    onnxproof.export(models.SimpleNet(), inputs=["input:float32[batch,10]"], output=path)
    return path


def cpu_default_precision() -> str:
    return str(ov.Core().get_property("CPU", "INFERENCE_PRECISION_HINT").get_type_name())


def test_default_settings_report_the_bf16_the_plugin_chose_and_it_is_a_finding(mlp: Path) -> None:
    if cpu_default_precision() != "bf16":
        pytest.skip(f"this CPU's OpenVINO default is {cpu_default_precision()}, not bf16")
    feeds = {"input": np.random.default_rng(0).standard_normal((16, 10), dtype=np.float32)}
    with runtimes.get("ort-cpu").load(str(mlp)) as ort:
        expected = ort.infer(feeds)["output"]
    with runtimes.get("openvino").load(str(mlp)) as session:
        details = session.details()
        got = session.infer(feeds)["output"]
    assert details["inference_precision"] == "bf16"
    assert details["config"] == "defaults"
    # What it reports is what it did: bf16 is far outside float32's agreement.
    assert np.abs(got - expected).max() > 1e-4
    (finding,) = precision_findings("openvino", details)
    assert finding.code == "reduced-precision"
    assert finding.severity is Severity.WARNING
    assert finding.message.startswith("openvino computed in bf16 (its default on this CPU)")
    assert '{"INFERENCE_PRECISION_HINT": "f32"}' in finding.hint
    assert "--runtime openvino-f32" in finding.hint


def test_openvino_f32_computes_in_f32_and_gives_no_finding(mlp: Path) -> None:
    with runtimes.get("openvino-f32").load(str(mlp)) as session:
        details = session.details()
    assert details["inference_precision"] == "f32"
    assert details["config"] == "INFERENCE_PRECISION_HINT=f32"
    assert "precision_fix" not in details
    assert precision_findings("openvino-f32", details) == ()


def test_runtimes_that_report_no_precision_give_no_finding(mlp: Path) -> None:
    with runtimes.get("ort-cpu").load(str(mlp)) as session:
        assert precision_findings("ort-cpu", session.details()) == ()
