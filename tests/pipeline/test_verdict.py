"""The verdict over every step and finding, computed once, last; steps that could not judge."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
import torch
from onnx import TensorProto, helper

import onnxproof
from onnxproof.report import render_run
from onnxproof.report._text import plain
from tests import models
from tests.conftest import ref


def _text(report: onnxproof.RunReport) -> str:
    return plain("\n".join(render_run(report)))


def test_a_warning_added_by_verify_fails_with_fail_on_warning(tmp_path: Path) -> None:
    path = tmp_path / "c.onnx"
    onnxproof.export(models.ConstantWeights(), inputs=["x:float32[batch,10]"], output=path)
    # Built afresh from its class: the fresh-weights warning comes after the checks passed.
    kept = onnxproof.verify(ref("ConstantWeights"), path, inputs=["x:float32[batch,10]"])
    assert kept.status == "pass" and any(f.code == "fresh-weights" for f in kept.findings)
    strict = onnxproof.verify(
        ref("ConstantWeights"), path, inputs=["x:float32[batch,10]"], fail_on="warning"
    )
    assert strict.status == "fail"


def test_model_changing_its_input_in_place_passes(tmp_path: Path) -> None:
    report = onnxproof.run(
        models.MutatesInput(), inputs=["x:float32[batch,10]"], output=tmp_path / "m.onnx"
    )
    assert report.verification is not None and report.verification.passed
    assert not any(f.code == "nondeterministic" for f in report.findings)
    assert report.status == "pass"


def test_nothing_compared_is_not_a_pass(tmp_path: Path) -> None:
    report = onnxproof.run(
        models.EmptyOutput(), inputs=["x:float32[batch,10]"], output=tmp_path / "e.onnx"
    )
    assert report.verification is not None and report.verification.compared_elements == 0
    step = report.step("parity")
    assert step is not None and step.state == "error" and "nothing was compared" in step.detail
    assert report.status == "error"
    assert "nothing was compared" in _text(report)


def test_runtime_that_rejects_the_file_is_a_failed_row(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Wobble", ["x"], ["y"], domain="com.example.ops")],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 10])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 10])],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("com.example.ops", 1)],
    )
    path = tmp_path / "custom.onnx"
    onnx.save(model, str(path))
    report = onnxproof.verify(torch.nn.Identity(), path, inputs=["x:float32[batch,10]"])
    assert report.status == "fail"
    step = report.step("parity")
    assert step is not None and step.state == "fail" and "could not load" in step.detail
    failure = next(f for f in report.findings if f.code == "runtime-failure")
    assert "could not load" in failure.message
    assert report.verification is not None and report.verification.load_error
    text = _text(report)
    assert "✗ parity" in text and "case -1" not in text and "draws )" not in text


def test_missing_runtime_is_a_row_and_could_not_judge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onnxproof import runtimes

    path = tmp_path / "s.onnx"
    onnxproof.export(models.SimpleNet(), inputs=["input:float32[batch,10]"], output=path)
    monkeypatch.setitem(runtimes.REGISTRY, "ort-cpu", "onnxproof.runtimes._absent:Absent")
    report = onnxproof.verify(models.SimpleNet(), path, inputs=["input:float32[batch,10]"])
    assert report.status == "error"
    assert report.verification is not None and not report.verification.available
    assert "cannot be imported" in (report.verification.unavailable_reason or "")
    assert "could not judge" in _text(report)


def test_output_row_is_not_ticked_when_cases_failed_to_run(tmp_path: Path) -> None:
    path = tmp_path / "static.onnx"
    model = models.SimpleNet()
    onnxproof.export(model, inputs=["input:float32[2,10]"], output=path)
    report = onnxproof.verify(model, path, inputs=["input:float32[batch,10]"])
    assert report.status == "fail"
    parity = report.verification
    assert parity is not None and parity.outputs[0].passed  # what did run agreed ...
    ran = [c for c in parity.cases if not c.skipped]
    assert parity.outputs[0].cases_compared < len(ran)
    row = next(line for line in _text(report).splitlines() if line.startswith("output  float32"))
    assert "✓" not in row and f"{parity.outputs[0].cases_compared}/{len(ran)}" in row


def test_opset_reason_names_the_exporter_that_wrote_the_file(tmp_path: Path) -> None:
    report = onnxproof.run(
        models.DataDependentBranch(), inputs=["x:float32[batch,10]"], output=tmp_path / "d.onnx"
    )
    assert report.exporter == "torchscript"
    assert report.opset_reason is not None and "torchscript" in report.opset_reason
    assert "what the dynamo exporter translates at" not in report.opset_reason


def test_report_has_environment_and_steps(tmp_path: Path) -> None:
    report = onnxproof.run(
        models.SimpleNet(), inputs=["input:float32[batch,10]"], output=tmp_path / "s.onnx"
    )
    env = report.environment
    assert env is not None and env.packages["onnx"] == onnx.__version__
    assert env.python and env.cpu and env.cpu_count
    assert "torch.intra_op" in env.threads
    data = json.loads(json.dumps(report.to_dict()))
    assert data["schema_version"] == 3 and data["export"]["onnx_path"] == str(tmp_path / "s.onnx")
    assert [s["name"] for s in data["steps"]] == ["export", "check", "parity"]


def test_saved_inputs_replay_as_data(tmp_path: Path) -> None:
    folder = tmp_path / "cases"
    model = models.SimpleNet()
    first = onnxproof.run(
        model, inputs=["input:float32[batch,10]"], output=tmp_path / "s.onnx", save_inputs=folder
    )
    assert first.verification is not None
    saved = sorted(p.name for p in folder.glob("case-*.npz"))
    assert len(saved) == len(first.verification.cases)
    seen: list[tuple[int, int | None]] = []
    replay = onnxproof.verify(
        model,
        tmp_path / "s.onnx",
        inputs=["input:float32[batch,10]"],
        data=folder,
        progress=lambda n, total: seen.append((n, total)),
    )
    assert replay.status == "pass" and replay.data is not None
    sizes = {c.sizes["batch"] for c in first.verification.cases}
    assert replay.data.samples == sum(
        c.sizes["batch"] for c in first.verification.cases
    ) and sizes == {1, 2, 7}
    assert sum(n for n, _ in seen) == replay.data.samples


def test_progress_is_told_the_total(tmp_path: Path) -> None:
    import numpy as np

    data = tmp_path / "d.npz"
    np.savez(data, input=np.random.default_rng(0).normal(size=(10, 10)).astype("float32"))
    seen: list[tuple[int, int | None]] = []
    onnxproof.run(
        models.SimpleNet(),
        inputs=["input:float32[batch,10]"],
        output=tmp_path / "s.onnx",
        data=data,
        batch_size=4,
        progress=lambda n, total: seen.append((n, total)),
    )
    assert seen == [(4, 10), (4, 10), (2, 10)]


def test_unknown_tol_output_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(onnxproof.errors.UsageError, match="does not have"):
        onnxproof.run(
            models.SimpleNet(),
            inputs=["input:float32[batch,10]"],
            output=tmp_path / "s.onnx",
            tolerances={"logits": (1e-3, 1e-2)},
        )


def test_every_runtime_is_judged_and_a_missing_one_is_a_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onnxproof import runtimes

    monkeypatch.setitem(runtimes.REGISTRY, "ghost", "onnxproof.runtimes._absent:Ghost")
    clean = onnxproof.run(
        models.SimpleNet(),
        inputs=["input:float32[batch,10]"],
        output=tmp_path / "s.onnx",
        runtimes=["ort-cpu", "ort-cpu-noopt", "ghost"],
    )
    assert [(r.runtime, r.available, r.passed) for r in clean.runtimes] == [
        ("ort-cpu", True, True),
        ("ort-cpu-noopt", True, True),
        ("ghost", False, False),
    ]
    assert clean.status == "pass"  # two runtimes judged; the missing one is a row
    assert "could not judge" not in _text(clean) and "ghost" in _text(clean)
    planted = onnxproof.run(
        models.ExportOnlyDivergence(),
        inputs=["x:float32[batch,10]"],
        output=tmp_path / "p.onnx",
        runtimes=["ort-cpu", "ort-cpu-noopt"],
    )
    assert planted.status == "fail" and not any(r.passed for r in planted.runtimes)
    mismatches = [f.message for f in planted.findings if f.code == "output-mismatch"]
    assert any("ort-cpu-noopt" in m for m in mismatches) and len(mismatches) == 2
    # One table, runtime by output, where every runtime is seen failing side by side.
    table = _text(planted).split("\nruntimes\n", 1)[1].splitlines()
    assert table[0].split() == [
        "runtime", "output", "max", "abs", "rel", "L2", "mismatch", "ms/call", "verdict"
    ]  # fmt: skip
    assert [row.split()[0] for row in table[1:3]] == ["ort-cpu", "ort-cpu-noopt"]
    assert all(row.split()[-1] == "fail" for row in table[1:3])
    clean_table = _text(clean).split("\nruntimes\n", 1)[1].splitlines()
    assert [r.split()[-1] for r in clean_table[1:4]] == ["pass", "pass", "run"]  # ghost: not run
    nothing = onnxproof.verify(
        models.SimpleNet(), tmp_path / "s.onnx", inputs=["input:float32[batch,10]"],
        runtimes=["ghost"],
    )  # fmt: skip
    assert nothing.status == "error"


def test_a_target_adds_its_runtime_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    from onnxproof import runtimes
    from onnxproof.options import VerifyOptions
    from onnxproof.pipeline._verify import TARGET_RUNTIMES, runtimes_to_verify

    monkeypatch.setitem(TARGET_RUNTIMES, "edge-box", "ort-cpu-noopt")
    monkeypatch.setitem(TARGET_RUNTIMES, "far-box", "ghost")
    monkeypatch.setitem(runtimes.REGISTRY, "ghost", "onnxproof.runtimes._absent:Ghost")
    options = VerifyOptions(targets=("edge-box", "far-box", "coreml"))
    assert runtimes_to_verify(options) == ["ort-cpu", "ort-cpu-noopt"]


def test_a_missing_first_runtime_hands_the_data_to_the_first_installed_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data used to run on the first runtime asked for: when that one was missing, the data
    step was skipped and the run still passed without a word on the data."""
    import numpy as np

    from onnxproof import runtimes

    monkeypatch.setitem(runtimes.REGISTRY, "ghost", "onnxproof.runtimes._absent:Ghost")
    data = tmp_path / "d.npz"
    np.savez(data, x=np.random.default_rng(0).standard_normal((6, 10)).astype(np.float32))
    report = onnxproof.run(
        models.ExportOnlyDivergence(),
        inputs=["x:float32[batch,10]"],
        output=tmp_path / "p.onnx",
        runtimes=["ghost", "ort-cpu"],
        data=data,
    )
    assert report.data is not None and report.data.runtime == "ort-cpu"
    assert report.data.samples == 6 and not report.data.passed
    step = report.step("data")
    assert step is not None and step.state == "fail"
    assert report.verification is not None and report.verification.runtime == "ort-cpu"
