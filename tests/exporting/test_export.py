from __future__ import annotations

from pathlib import Path

import onnx
import pytest
import torch

import onnxproof
from onnxproof.errors import ExportError, InputSpecError
from onnxproof.exporting import export_model
from onnxproof.exporting._write import finalize
from onnxproof.linting.codes import CODES
from onnxproof.linting.export_rules import export_findings
from onnxproof.loading import load_model
from onnxproof.specs import parse_input_specs
from tests import models

SPECS = parse_input_specs(["input:float32[batch,10]"])
ARGS = (torch.randn(2, 10),)


def test_dynamo_writes_one_file_with_provenance(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "net.onnx"
    result = export_model(models.SimpleNet(), SPECS, out, args=ARGS, reference="ref:SimpleNet")
    assert result.exporter == "dynamo" and result.attempts[0].ok
    assert out.exists() and not (tmp_path / "net.onnx.data").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.onnx"]  # no temp files left
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["onnxproof.exporter"] == "dynamo"
    assert meta["onnxproof.opset"] == "18" and meta["onnxproof.opset_requested"] == "18"
    assert meta["onnxproof.inputs"] == "input:float32[batch,10]"
    assert meta["onnxproof.model"] == "ref:SimpleNet"
    assert meta["onnxproof.torch_version"] == torch.__version__
    graph_input = onnx.load(str(out)).graph.input[0]
    assert graph_input.type.tensor_type.shape.dim[0].dim_param == "batch"
    # the exporter's progress lines and warnings went to the log, not the terminal
    captured = capfd.readouterr()
    assert "[torch.onnx]" not in captured.out + captured.err
    assert any("[torch.onnx]" in line for line in result.log)


def test_eval_applied_and_flags_restored(tmp_path: Path) -> None:
    model = models.left_in_training()
    seen: list[bool] = []
    model.drop.register_forward_pre_hook(lambda m, a: seen.append(m.training))
    result = export_model(model, SPECS, tmp_path / "m.onnx", args=ARGS, exporter="torchscript")
    assert seen and not any(seen)  # every forward during export ran in eval mode
    assert model.training and model.bn.training  # the caller's state is back
    assert "drop" in result.training_modules
    findings = export_findings(result)
    assert any(f.code == "train-mode" and f.severity.value == "warning" for f in findings)
    graph = onnx.load(str(tmp_path / "m.onnx")).graph
    assert "Dropout" not in {n.op_type for n in graph.node}


def test_torchscript_choice_and_opset_record(tmp_path: Path) -> None:
    result = export_model(
        models.SimpleNet(), SPECS, tmp_path / "t.onnx", args=ARGS, exporter="torchscript", opset=17
    )
    assert [a.strategy for a in result.attempts] == ["torchscript"]
    assert result.opset_requested == 17 and result.opset_written == 17


def test_low_opset_request_is_recorded(tmp_path: Path) -> None:
    result = export_model(models.SimpleNet(), SPECS, tmp_path / "d.onnx", args=ARGS, opset=13)
    assert result.opset_requested == 13
    written = next(
        o.version for o in onnx.load(str(tmp_path / "d.onnx")).opset_import if o.domain == ""
    )
    assert result.opset_written == written
    codes = {f.code for f in export_findings(result)}
    assert ("opset-above-request" in codes) == (written > 13)
    assert "opset-changed" not in codes


def test_opset_changed_rule_both_ways() -> None:
    from onnxproof.results import ExportResult

    def codes(written: int) -> set[str]:
        record = ExportResult(
            onnx_path="m.onnx", exporter="dynamo", attempts=(), opset_requested=13,
            opset_written=written, external_data_file=None, input_specs=(), output_names=(),
            training_modules=(), findings=(), log=(), seconds=0.0,
        )  # fmt: skip
        return {f.code for f in export_findings(record)}

    # The exporter kept 18 when asked for 13: a runtime capped at 13 refuses the file.
    assert codes(18) == {"opset-above-request"}
    assert CODES["opset-above-request"].severity == "error"
    assert codes(13) == set()
    assert codes(11) == {"opset-changed"}


def test_fallback_is_recorded(tmp_path: Path) -> None:
    result = export_model(models.DataDependentBranch(), SPECS, tmp_path / "b.onnx", args=ARGS)
    assert [(a.strategy, a.ok) for a in result.attempts] == [
        ("dynamo", False),
        ("torchscript", True),
    ]
    assert "data-dependent" in (result.attempts[0].error or "")
    findings = export_findings(result)
    codes = {f.code for f in findings}
    assert {"export-fallback", "traced-control-flow"} <= codes
    traced = next(f for f in findings if f.code == "traced-control-flow")
    assert traced.location and traced.location.startswith(str(Path(models.__file__)))


def test_unsupported_operator_names_op_and_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "c.onnx"
    module = load_model(
        str(Path(models.__file__).with_name("custom_op_model.py")) + ":CustomOp"
    ).module
    with pytest.raises(ExportError) as info:
        export_model(module, SPECS, out, args=ARGS)
    assert "onnxproof_test" in info.value.message and "wobble" in info.value.message
    assert "opset 18" in info.value.message
    assert "custom_translation_table" in (info.value.hint or "")
    assert [a.strategy for a in info.value.attempts] == ["dynamo", "torchscript"]
    assert list(tmp_path.iterdir()) == []


def test_shape_rejected_names_the_layer(tmp_path: Path) -> None:
    specs = parse_input_specs(["input:float32[batch,12]"])
    with pytest.raises(InputSpecError) as info:
        export_model(models.SimpleNet(), specs, tmp_path / "s.onnx", args=(torch.randn(2, 12),))
    text = str(info.value)
    assert "input=[2, 12]" in text and "layer fc1 (Linear(in_features=10" in text
    assert "[2, 12]" in text
    assert list(tmp_path.iterdir()) == []


def test_large_model_goes_to_external_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import onnxproof.exporting._write as write

    model = onnx.load(str(_small_file(tmp_path)))
    monkeypatch.setattr(write, "SINGLE_FILE_LIMIT", 100)
    data = finalize(model, {"k": "v"}, tmp_path / "out" / "big.onnx")
    assert data == "big.onnx.data"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["big.onnx", "big.onnx.data"]
    onnx.checker.check_model(str(tmp_path / "out" / "big.onnx"))


def _small_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.onnx"
    export_model(models.SimpleNet(), SPECS, path, args=ARGS, exporter="torchscript")
    return path


@pytest.mark.parametrize(("name", "said"), [("ReturnsNothing", "None"), ("ReturnsText", "a str")])
def test_forward_without_a_tensor_is_refused_before_export(
    tmp_path: Path, name: str, said: str
) -> None:
    report = onnxproof.run(
        getattr(models, name)(), inputs=["x:float32[batch,4]"], output=tmp_path / "n.onnx"
    )
    assert report.status == "fail" and not (tmp_path / "n.onnx").exists()
    failed = next(f for f in report.findings if f.code == "export-failed")
    assert f"returned {said}" in failed.message and "no tensor" in failed.message


class _Normalized(torch.nn.Module):
    """LayerNormalization is an opset-17 op: the dynamo exporter cannot convert it down to 13."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(10, 10)
        self.norm = torch.nn.LayerNorm(10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.fc(x))


def test_auto_moves_on_when_the_file_stays_above_the_opset_asked_for(tmp_path: Path) -> None:
    result = export_model(_Normalized(), SPECS, tmp_path / "n.onnx", args=ARGS, opset=13)
    assert [(a.strategy, a.ok) for a in result.attempts] == [
        ("dynamo", False),
        ("torchscript", True),
    ]
    assert "wrote opset 18 where 13 was asked for" in (result.attempts[0].error or "")
    assert result.exporter == "torchscript" and result.opset_written == 13
    only = export_model(
        _Normalized(), SPECS, tmp_path / "d.onnx", args=ARGS, opset=13, exporter="dynamo"
    )
    assert only.opset_written == 18
    assert "opset-above-request" in {f.code for f in export_findings(only)}
