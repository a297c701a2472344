"""Whole commands: exit codes, parsed JSON, and one-line errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import onnx
from onnx import TensorProto, helper

from tests.conftest import ref

EXAMPLE = Path(__file__).parents[2] / "examples" / "simple_net.py"


class _AnyText(str):
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(other)

    __hash__ = str.__hash__


ANY_TEXT = _AnyText()


def test_builtin_example_subprocess(tmp_path: Path) -> None:
    """`onnxproof run` as a user runs it: a real process, the console script's module."""
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "onnxproof", "run", "-o", "sn.onnx", "--json", "r.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "exported" in out and "dynamo" in out and "opset 18" in out
    assert "checker" in out and "passed" in out
    assert "input: float32" not in proc.stderr
    assert "[batch, 10]" in out and "PASS" in out
    assert "[torch.onnx]" not in out + proc.stderr  # exporter chatter stays in the log
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["schema_version"] == 3 and report["status"] == "pass"
    assert report["export"]["exporter"] == "dynamo" and report["export"]["opset_written"] == 18
    info = report["check"]["info"]
    assert info["inputs"] == [{"name": "input", "dtype": "float32", "shape": ["batch", 10]}]
    assert info["outputs"][0]["shape"] == ["batch", 3]
    assert [(s["name"], s["state"]) for s in report["steps"]] == [
        ("export", "pass"),
        ("check", "pass"),
        ("parity", "pass"),
    ]
    assert report["environment"]["packages"]["torch"].startswith("2.")
    attempt = report["export"]["attempts"][0]
    assert attempt["strategy"] == "dynamo" and attempt["ok"] and attempt["error"] is None
    verification = report["verification"]
    assert verification["passed"] and verification["atol"] > 0 and verification["rtol"] > 0
    assert {"sizes", "passed", "error"} <= set(verification["cases"][0])
    assert {"name", "max_abs_diff", "max_rel_diff", "mismatch_fraction", "passed"} <= set(
        verification["outputs"][0]
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "sn.onnx"]


def test_example_file_with_input(cli, tmp_path: Path) -> None:
    result = cli(
        "run", f"{EXAMPLE}:SimpleNet", "--input", "input:float32[batch,10]",
        "-o", str(tmp_path / "s.onnx"), "--json", str(tmp_path / "r.json"),
    )  # fmt: skip
    assert result.exit_code == 0
    assert result.report is not None and result.report["model"].endswith("simple_net.py:SimpleNet")


def test_planted_divergence_exit_1(cli, tmp_path: Path) -> None:
    result = cli(
        "run", ref("ExportOnlyDivergence"), "--input", "x:float32[batch,10]",
        "-o", str(tmp_path / "p.onnx"), "--json", str(tmp_path / "r.json"),
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.report is not None and result.report["status"] == "fail"
    assert not result.report["verification"]["passed"]
    assert "output-mismatch" in {f["code"] for f in result.report["findings"]}


def test_training_mode_json(cli, tmp_path: Path) -> None:
    result = cli(
        "run", ref("left_in_training"), "--input", "x:float32[batch,10]",
        "-o", str(tmp_path / "t.onnx"), "--json", str(tmp_path / "r.json"),
    )  # fmt: skip
    assert result.exit_code == 0
    assert result.report is not None
    finding = next(f for f in result.report["findings"] if f["code"] == "train-mode")
    assert finding["severity"] == "warning" and finding["hint"]


def test_fail_on_warning(cli, tmp_path: Path) -> None:
    result = cli(
        "run", ref("left_in_training"), "--input", "x:float32[batch,10]",
        "-o", str(tmp_path / "t.onnx"), "--fail-on", "warning",
    )  # fmt: skip
    assert result.exit_code == 1


def test_data_dependent_branch_exit_1(cli, tmp_path: Path) -> None:
    result = cli(
        "run", ref("DataDependentBranch"), "--input", "x:float32[batch,10]",
        "-o", str(tmp_path / "b.onnx"), "--json", str(tmp_path / "r.json"),
    )  # fmt: skip
    assert result.exit_code == 1
    report = result.report
    assert report is not None and report["status"] == "fail"
    assert report["export"]["exporter"] == "torchscript"
    assert [a["ok"] for a in report["export"]["attempts"]] == [False, True]


def _assert_user_error(result, code: int, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == code, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith("error: ")
    for needle in needles:
        assert needle in result.stderr.replace("\n", " "), result.stderr


def test_error_missing_file(cli, tmp_path: Path) -> None:
    _assert_user_error(
        cli("run", "nope/model.py:Net", "-o", str(tmp_path / "x.onnx")), 2, "does not exist"
    )
    assert not list(tmp_path.iterdir())


def test_error_missing_class(cli, tmp_path: Path) -> None:
    _assert_user_error(
        cli("run", ref("Nope"), "-o", str(tmp_path / "x.onnx")), 2, "no attribute 'Nope'"
    )


def test_error_constructor_needs_arguments(cli, tmp_path: Path) -> None:
    _assert_user_error(
        cli("run", ref("NeedsArguments"), "-o", str(tmp_path / "x.onnx")),
        2,
        "constructor arguments (width)",
    )


def test_error_bad_spec(cli, tmp_path: Path) -> None:
    _assert_user_error(
        cli("run", ref("SimpleNet"), "--input", "x:float33[2]", "-o", str(tmp_path / "x.onnx")),
        2,
        "unknown dtype 'float33'",
    )


def test_error_shape_rejected_at_export(cli, tmp_path: Path) -> None:
    result = cli(
        "run", ref("SimpleNet"), "--input", "x:float32[batch,12]", "-o", str(tmp_path / "x.onnx")
    )
    _assert_user_error(result, 2, "layer fc1", "[2, 12]", "in_features=10")
    assert not list(tmp_path.iterdir())


def test_error_unsupported_operator(cli, tmp_path: Path) -> None:
    result = cli(
        "run", str(Path(__file__).parents[1] / "custom_op_model.py") + ":CustomOp", "--input", "x:float32[batch,10]",
        "-o", str(tmp_path / "x.onnx"), "--json", str(tmp_path / "r.json"),
    )  # fmt: skip
    # A model that cannot be exported is a failed check with its reasons, not a usage error.
    assert result.exit_code == 1 and "Traceback" not in result.stdout + result.stderr
    for needle in ("onnxproof_test", "wobble", "opset 18", "--exporter", "FAIL"):
        assert needle in result.stdout, result.stdout
    assert not (tmp_path / "x.onnx").exists()
    assert result.report is not None and result.report["status"] == "fail"
    assert result.report["steps"] == [{"name": "export", "state": "fail", "detail": ANY_TEXT}]
    assert [a["strategy"] for a in result.report["export"]["attempts"]] == ["dynamo", "torchscript"]


def test_error_checker_failure_names_node(cli, tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x", "x"], ["y"], name="broken_relu")],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    path = tmp_path / "bad.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))
    result = cli("check", str(path), "--json", str(tmp_path / "c.json"))
    assert result.exit_code == 1
    assert "broken_relu" in result.stdout
    assert result.report is not None and result.report["checker_passed"] is False


def test_error_runtime_shape_explained(cli, tmp_path: Path) -> None:
    path = tmp_path / "static.onnx"
    assert (
        cli("export", ref("SimpleNet"), "--input", "input:float32[2,10]", "-o", str(path)).exit_code
        == 0
    )
    result = cli(
        "verify",
        ref("SimpleNet"),
        str(path),
        "--input",
        "input:float32[batch,10]",
        "--json",
        str(tmp_path / "r.json"),
    )
    assert result.exit_code == 1
    assert "dim 0" in result.stdout and "fixed to 2" in result.stdout
    assert result.report is not None
    errors = [c["error"] for c in result.report["verification"]["cases"] if c["error"]]
    assert errors and "input 'input' dim 0" in errors[0]


def test_check_valid_file_prints_dims_by_name(cli, tmp_path: Path) -> None:
    path = tmp_path / "s.onnx"
    assert cli("export", ref("SimpleNet"), "-o", str(path)).exit_code == 0
    result = cli("check", str(path))
    assert result.exit_code == 0
    assert "[batch, 10]" in result.stdout and "passed" in result.stdout


def test_debug_shows_traceback(cli, tmp_path: Path) -> None:
    import pytest

    from onnxproof.errors import ModelLoadError

    with pytest.raises(ModelLoadError):
        cli("run", "nope/model.py:Net", "--debug", "-o", str(tmp_path / "x.onnx"))
