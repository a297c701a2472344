"""The library API end to end: onnxproof.run / export / verify / check on real models."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
import torch

import onnxproof
from onnxproof.errors import UsageError
from tests import models


def test_run_module_with_example_tensors(tmp_path: Path) -> None:
    model = models.SimpleNet().eval()
    report = onnxproof.run(model, (torch.randn(4, 10),), output=tmp_path / "net.onnx")
    assert report.status == "pass"
    assert report.exporter == "dynamo" and report.opset == 18
    assert [str(t) for t in report.inputs] == ["x: float32[batch, 10]"]  # named after the parameter
    assert report.verification is not None and report.verification.passed
    sizes = {c.sizes["batch"] for c in report.verification.cases}
    assert {1, 2, 7} <= sizes and len(report.verification.cases) >= 12
    assert not report.findings  # the model was already in eval mode


def test_planted_export_only_divergence_fails(tmp_path: Path) -> None:
    report = onnxproof.run(
        models.ExportOnlyDivergence(), (torch.randn(2, 10),), output=tmp_path / "p.onnx"
    )
    assert report.status == "fail"
    assert report.verification is not None and not report.verification.passed
    (out,) = report.verification.outputs
    assert not out.passed and out.max_abs_diff == pytest.approx(1.0, abs=1e-4)
    assert any(f.code == "output-mismatch" for f in report.findings)


def test_training_mode_model_exports_in_eval(tmp_path: Path) -> None:
    model = models.left_in_training()
    report = onnxproof.run(model, inputs=["x:float32[batch,10]"], output=tmp_path / "t.onnx")
    # parity holds against eval-mode PyTorch: Dropout off, BatchNorm on running stats
    assert report.status == "pass", report.verification
    train = [f for f in report.findings if f.code == "train-mode"]
    assert train and train[0].severity.value == "warning" and "drop" in train[0].message
    assert model.training and model.drop.training  # the user's state is restored


def test_data_dependent_branch_never_passes(tmp_path: Path) -> None:
    for exporter in ("auto", "torchscript"):
        report = onnxproof.run(
            models.DataDependentBranch(),
            inputs=["x:float32[batch,10]"],
            output=tmp_path / "b.onnx",
            exporter=exporter,
        )
        assert report.status == "fail"
        assert report.exporter == "torchscript"
        # both draws' signs were exercised, so the frozen branch gives wrong answers somewhere
        assert report.verification is not None and not report.verification.passed


def test_dict_and_tuple_outputs_are_named(tmp_path: Path) -> None:
    report = onnxproof.run(
        models.DictOutputs(), inputs=["x:float32[batch,10]"], output=tmp_path / "d.onnx"
    )
    assert report.status == "pass"
    assert [o.name for o in report.outputs] == ["logits", "aux.0", "aux.1"]
    assert report.verification is not None
    assert {o.name: o.dtype for o in report.verification.outputs} == {
        "logits": "float32",
        "aux.0": "float32",
        "aux.1": "bool",
    }


def test_two_inputs_with_shared_dims_and_token_range(tmp_path: Path) -> None:
    report = onnxproof.run(
        models.TwoInputs(),
        inputs=["ids:int64[batch,seq=5]{0..49}", "mask:float32[batch,seq=5]"],
        output=tmp_path / "two.onnx",
    )
    assert report.status == "pass", report.findings
    assert [t.shape for t in report.inputs] == [("batch", "seq"), ("batch", "seq")]


def test_baked_batch_is_a_failed_case_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "static.onnx"
    model = models.SimpleNet()
    onnxproof.export(model, inputs=["input:float32[2,10]"], output=path)
    report = onnxproof.verify(model, path, inputs=["input:float32[batch,10]"])
    assert report.status == "fail"
    assert report.verification is not None
    failed = [c for c in report.verification.cases if not c.passed]
    assert failed and all(c.sizes["batch"] != 2 for c in failed)
    assert "input 'input' dim 0 (declared dynamic as 'batch') is fixed to 2" in (
        failed[0].error or ""
    )
    assert any(f.code == "runtime-failure" for f in report.findings)


def test_verify_uses_same_weights(tmp_path: Path) -> None:
    model = models.SimpleNet()
    path = tmp_path / "w.onnx"
    onnxproof.export(model, inputs=["input:float32[batch,10]"], output=path)
    assert onnxproof.verify(model, path, inputs=["input:float32[batch,10]"]).status == "pass"
    other = models.SimpleNet()  # different random weights: the planted mismatch must be caught
    assert onnxproof.verify(other, path, inputs=["input:float32[batch,10]"]).status == "fail"


def test_tolerance_override_changes_verdict(tmp_path: Path) -> None:
    report = onnxproof.run(
        models.ExportOnlyDivergence(),
        inputs=["x:float32[batch,10]"],
        output=tmp_path / "p.onnx",
        atol=1.01,
    )
    assert report.status == "pass"  # the planted +1 is inside atol 1.01


def test_missing_specs_and_name_mismatch(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no input specs"):
        onnxproof.run(models.DataDependentBranch(), output=tmp_path / "x.onnx")
    path = tmp_path / "n.onnx"
    onnxproof.export(models.SimpleNet(), output=path, inputs=["input:float32[batch,10]"])
    with pytest.raises(UsageError, match=r"has inputs \['input'\]"):
        onnxproof.verify(models.SimpleNet(), path, inputs=["x:float32[batch,10]"])


def test_exported_program_reference(tmp_path: Path) -> None:
    model = models.SimpleNet().eval()
    program = torch.export.export(
        model, (torch.randn(3, 10),), dynamic_shapes=({0: torch.export.Dim("batch")},)
    )
    torch.export.save(program, str(tmp_path / "net.pt2"))
    report = onnxproof.run(str(tmp_path / "net.pt2"), output=tmp_path / "net.onnx")
    assert report.status == "pass"
    assert isinstance(report.inputs[0].shape[0], str)  # the program's dynamic batch stays dynamic
    assert (
        onnx.load(str(tmp_path / "net.onnx")).graph.input[0].type.tensor_type.shape.dim[0].dim_param
    )


def test_sizes_pytorch_rejects_are_skipped_not_failed(tmp_path: Path) -> None:
    report = onnxproof.run(
        models.OnlyEvenBatches(), inputs=["x:float32[batch=4,10]"], output=tmp_path / "e.onnx"
    )
    assert report.verification is not None
    skipped = [c for c in report.verification.cases if c.skipped]
    assert skipped and {c.sizes["batch"] for c in skipped} == {1, 7}
    assert all(c.passed for c in report.verification.cases if not c.skipped)
    assert report.status == "pass"


def test_opset_follows_the_targets_and_says_why(tmp_path: Path) -> None:
    from onnxproof.pipeline import choose_opset

    assert choose_opset(None, ())[0] == 18
    assert choose_opset(17, ("tensorrt",)) == (17, "asked for with --opset")
    opset, reason = choose_opset(None, ("tensorrt", "openvino"))
    assert opset == 18 and "tensorrt <= 24" in reason
    opset, reason = choose_opset(None, ("coreml",))
    assert opset == 10 and "coreml" in reason
    report = onnxproof.run(
        models.SimpleNet(),
        inputs=["x:float32[batch,10]"],
        output=tmp_path / "t.onnx",
        targets=["tensorrt"],
    )
    assert report.opset == 18 and report.opset_reason and "tensorrt" in report.opset_reason


def test_verify_with_fresh_random_weights_says_why(tmp_path: Path) -> None:
    from tests.conftest import ref

    path = tmp_path / "s.onnx"
    onnxproof.export(ref("SimpleNet"), output=path)
    report = onnxproof.verify(ref("SimpleNet"), path)
    assert report.status == "fail"
    assert any(f.code == "fresh-weights" for f in report.findings)
    weights = tmp_path / "w.pt"
    model = models.SimpleNet()
    torch.save(model.state_dict(), weights)
    onnxproof.export(model, inputs=["input:float32[batch,10]"], output=path)
    same = onnxproof.verify(ref("SimpleNet"), path, weights=weights)
    assert same.status == "pass" and not any(f.code == "fresh-weights" for f in same.findings)
