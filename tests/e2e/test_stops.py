"""Runs that end early: a signal, the time limit, the model's own exit. Never a silent pass."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from onnxproof.cli import app
from tests.conftest import ref


@pytest.mark.parametrize(("name", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_signal_during_export_stops_the_run(tmp_path: Path, name: str, code: int) -> None:
    """A Ctrl-C the exporter would swallow (and fall back to TorchScript) ends the run: exit
    128 + signal, nothing at the output path, no temp files left behind."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "NO_COLOR": "1", "TMPDIR": str(temp), "ONNXPROOF_TEST_SIGNAL": name}
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "onnxproof", "run", ref("SignalsWhileExported"), "--input",
         "x:float32[batch,4]", "-o", str(out / "m.onnx"), "--json", str(out / "r.json")],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert "PASS" not in proc.stdout and "Traceback" not in proc.stderr
    assert f"stopped ({name}) while exporting" in proc.stderr
    assert list(out.iterdir()) == []
    # torch keeps its own caches in TMPDIR (torchinductor_*); onnxproof's work folder is gone.
    assert not [p.name for p in temp.iterdir() if p.name.startswith("onnxproof")]


def test_model_calling_sys_exit_is_a_failure(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["run", ref("ExitsWhileVerified"), "--input", "x:float32[batch,4]",
         "-o", str(tmp_path / "m.onnx")],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "called sys.exit(0)" in result.stderr and "nothing was verified" in result.stderr
    assert "PASS" not in result.stdout


def test_model_exiting_at_import_is_a_failure(tmp_path: Path) -> None:
    module = tmp_path / "exits.py"
    module.write_text("import sys\nsys.exit(0)\n")
    result = CliRunner().invoke(app, ["run", f"{module}:Net", "-o", str(tmp_path / "m.onnx")])
    assert result.exit_code == 1 and "called sys.exit(0)" in result.stderr
    assert not (tmp_path / "m.onnx").exists()


def test_time_limit_says_what_was_running(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["run", ref("SleepsWhileVerified"), "--input", "x:float32[batch,4]",
         "-o", str(tmp_path / "m.onnx"), "--timeout", "10"],
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    assert "longer than its 10 s time limit" in result.stderr and " while " in result.stderr
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None)


def test_json_to_stdout_stays_json_when_the_model_prints(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["run", ref("PrintsInForward"), "--input", "x:float32[batch,10]",
         "-o", str(tmp_path / "m.onnx"), "--json", "-"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["status"] == "pass"
    assert "model says hello" in result.stderr
