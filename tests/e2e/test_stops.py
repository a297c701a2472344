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


#: The command line, with the HTML report's write stopped halfway by a signal the process sends
#: itself: the moment a user's Ctrl-C (or a supervisor's SIGTERM) lands after the JSON report.
_SIGNAL_IN_HTML_WRITE = """
import os, signal, sys, time
import onnxproof.report.html as html
from onnxproof.outputs import atomic_write

def write_text(text, path):
    def half(tmp):
        tmp.write_text(text[: len(text) // 2])
        os.kill(os.getpid(), getattr(signal, os.environ["STOP_WITH"]))
        time.sleep(30)  # the handler raises here
        tmp.write_text(text)
    atomic_write(path, half)

html.write_text = write_text
from onnxproof.cli import main
sys.argv = ["onnxproof", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize(("name", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_signal_while_the_reports_are_written_stops_the_run(
    tmp_path: Path, name: str, code: int
) -> None:
    """A signal after the JSON report, while the HTML one is written: exit 128 + signal with the
    stopped line, no half-written HTML or temp file, and the terminal summary never claims
    a pass."""
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "NO_COLOR": "1", "STOP_WITH": name}
    proc = subprocess.run(
        [sys.executable, "-c", _SIGNAL_IN_HTML_WRITE, "run", ref("SimpleNet"), "--input",
         "input:float32[batch,10]", "-o", str(out / "m.onnx"), "--json", str(out / "r.json"),
         "--html", str(out / "r.html"), "--junit", str(out / "j.xml"), "--no-repro"],
        capture_output=True, text=True, env=env, timeout=300,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert f"stopped ({name}) while writing the reports" in proc.stderr
    assert "Traceback" not in proc.stderr and "Aborted" not in proc.stderr + proc.stdout
    assert "PASS" not in proc.stdout
    assert sorted(p.name for p in out.iterdir()) == ["m.onnx", "r.json"]
    assert json.loads((out / "r.json").read_text())["status"] == "pass"
