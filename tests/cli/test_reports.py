"""run writes the reports asked for, and a repro bundle when parity fails (never on a pass)."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from onnxproof.cli import app
from tests.conftest import ref


def _run(tmp_path: Path, model: str, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        ["run", ref(model), "--input", "x:float32[batch,4]", "-o", str(tmp_path / "m.onnx"),
         *extra],
    )  # fmt: skip
    return result.exit_code, result.stdout


def test_failing_run_writes_reports_and_a_bundle_that_reproduces(tmp_path: Path) -> None:
    code, out = _run(
        tmp_path, "Blocks", "--html", str(tmp_path / "r.html"), "--junit",
        str(tmp_path / "r.xml"), "--markdown", str(tmp_path / "r.md"),
    )  # fmt: skip
    assert code == 1
    bundle = tmp_path / "m.onnx.repro"
    assert f"repro bundle: {bundle}" in out
    assert "FAIL" in (tmp_path / "r.html").read_text()
    suite = ET.parse(tmp_path / "r.xml").getroot()
    assert int(suite.get("failures", "0")) >= 1
    assert (tmp_path / "r.md").read_text().count("FAIL") >= 1
    replay = subprocess.run(
        [sys.executable, "reproduce.py"], cwd=bundle, capture_output=True, text=True, timeout=120
    )
    assert replay.returncode == 1 and "still differs" in replay.stdout
    assert (bundle / "module.onnx").is_file()  # the first divergent module on its own


def test_passing_run_writes_no_bundle_unless_asked(tmp_path: Path) -> None:
    code, _ = _run(tmp_path, "MutatesInput")
    assert code == 0 and not (tmp_path / "m.onnx.repro").exists()
    code, _ = _run(tmp_path, "MutatesInput", "--repro", str(tmp_path / "asked"))
    assert code == 0 and (tmp_path / "asked" / "reproduce.py").is_file()


def test_no_repro_and_a_foreign_folder(tmp_path: Path) -> None:
    code, _ = _run(tmp_path, "Blocks", "--no-repro")
    assert code == 1 and not (tmp_path / "m.onnx.repro").exists()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    code, _ = _run(tmp_path, "Blocks", "--repro", str(foreign))
    assert code == 2 and (foreign / "notes.txt").read_text() == "keep me"
