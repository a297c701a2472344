"""The strategy chain: a file that fails the ONNX checker is a failed attempt, and auto goes on."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
import torch

from onnxproof.errors import ExportError
from onnxproof.exporting import _strategies, export_model
from onnxproof.exporting._strategies import DynamoStrategy, ExportRequest, TorchScriptStrategy
from onnxproof.linting.export_rules import export_findings
from onnxproof.specs import parse_input_specs
from tests import models

SPECS = parse_input_specs(["input:float32[batch,10]"])
ARGS = (torch.randn(2, 10),)


class DefinesANameTwice(DynamoStrategy):
    """The dynamo exporter, then a second node writing the first node's output: not SSA."""

    def _export(self, request: ExportRequest, destination: Path) -> None:
        super()._export(request, destination)
        model = onnx.load(str(destination))
        model.graph.node.append(model.graph.node[0])
        onnx.save(model, str(destination))


@pytest.fixture
def broken_dynamo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_strategies, "STRATEGIES", (DefinesANameTwice, TorchScriptStrategy))


@pytest.mark.usefixtures("broken_dynamo")
def test_auto_moves_on_when_the_file_is_invalid(tmp_path: Path) -> None:
    out = tmp_path / "m.onnx"
    result = export_model(models.SimpleNet(), SPECS, out, args=ARGS)
    assert [(a.strategy, a.ok) for a in result.attempts] == [
        ("dynamo", False),
        ("torchscript", True),
    ]
    error = result.attempts[0].error or ""
    assert "onnx.checker" in error and "single static assignment" in error
    assert result.exporter == "torchscript"
    onnx.checker.check_model(str(out), full_check=True)
    fallback = [f for f in export_findings(result) if f.code == "export-fallback"]
    assert fallback and "single static assignment" in fallback[0].message


@pytest.mark.usefixtures("broken_dynamo")
def test_invalid_file_alone_is_an_export_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError) as info:
        export_model(models.SimpleNet(), SPECS, tmp_path / "m.onnx", args=ARGS, exporter="dynamo")
    assert "single static assignment" in info.value.message
    assert [(a.strategy, a.ok) for a in info.value.attempts] == [("dynamo", False)]
    assert list(tmp_path.iterdir()) == []
