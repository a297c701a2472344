"""The check and lint commands' verdicts and exit codes; the error → exit code mapping."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper

from onnxproof.cli import app


def _model(
    path: Path, *, op: str = "Relu", inputs: tuple[str, ...] = ("x",), elem=TensorProto.FLOAT
) -> Path:  # type: ignore[no-untyped-def]
    graph = helper.make_graph(
        [helper.make_node(op, list(inputs), ["y"], name="the_node")],
        "g",
        [helper.make_tensor_value_info("x", elem, ["batch", 4])],
        [helper.make_tensor_value_info("y", elem, ["batch", 4])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))
    return path


def test_lint_clean_file_passes(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["lint", str(_model(tmp_path / "ok.onnx"))])
    assert result.exit_code == 0, result.output
    assert "no findings" in result.stdout and "PASS" in result.stdout


def test_lint_error_finding_fails_and_warning_fails_only_when_asked(tmp_path: Path) -> None:
    path = _model(tmp_path / "f64.onnx", elem=TensorProto.DOUBLE)
    # float64 is an error only for a target without it, a warning otherwise.
    plain = CliRunner().invoke(app, ["lint", str(path)])
    assert plain.exit_code == 0 and "float64" in plain.stdout
    strict = CliRunner().invoke(app, ["lint", str(path), "--fail-on", "warning"])
    assert strict.exit_code == 1 and "FAIL" in strict.stdout


def test_lint_of_a_file_the_checker_rejects_is_not_clean(tmp_path: Path) -> None:
    path = _model(tmp_path / "bad.onnx", inputs=("x", "x"))  # Relu takes one input
    result = CliRunner().invoke(app, ["lint", str(path)])
    assert result.exit_code == 1, result.output
    assert "fails onnx.checker" in result.stdout and "FAIL" in result.stdout


def test_check_json_carries_the_verdict(tmp_path: Path) -> None:
    path = _model(tmp_path / "ok.onnx")
    result = CliRunner().invoke(app, ["check", str(path), "--json", "-"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["status"] == "pass"


def test_unexpected_exception_is_exit_3_without_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import onnxproof.pipeline

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(onnxproof.pipeline, "checked", broken)
    result = CliRunner().invoke(app, ["check", str(_model(tmp_path / "ok.onnx"))])
    assert result.exit_code == 3
    assert result.stderr.startswith("error: internal error: RuntimeError: something inside broke")
    assert "Traceback" not in result.output and "--debug" in result.stderr


def test_export_exits_by_the_findings_on_the_file_too(tmp_path: Path) -> None:
    """A random op in the written file is an error `check` reports: `export` used to print the
    checker's tick alone and exit 0."""
    from tests.conftest import ref

    noisy = CliRunner().invoke(
        app,
        ["export", ref("NoisyOutput"), "-i", "x:float32[batch,10]", "-o", str(tmp_path / "n.onnx")],
    )
    assert noisy.exit_code == 1, noisy.output
    assert "stochastic-op" in noisy.output and "FAIL" in noisy.output
    clean = CliRunner().invoke(app, ["export", ref("SimpleNet"), "-o", str(tmp_path / "s.onnx")])
    assert clean.exit_code == 0, clean.output
    assert "PASS" in clean.output
