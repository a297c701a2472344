"""An output that is an input or another output is refused before any work (exit 2)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

import onnxproof
from onnxproof.cli import app
from tests import models
from tests.conftest import ref


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stderr


def test_same_path_for_the_model_and_the_report(tmp_path: Path) -> None:
    target = tmp_path / "x"
    code, err = _invoke("run", ref("SimpleNet"), "-o", str(target), "--json", str(target))
    assert code == 2 and err.startswith("error: ") and not target.exists()


def test_check_never_overwrites_its_input(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    onnxproof.export(models.SimpleNet(), inputs=["input:float32[batch,10]"], output=path)
    before = path.read_bytes()
    code, _ = _invoke("check", str(path), "--json", str(path))
    assert code == 2 and path.read_bytes() == before


def test_output_over_the_model_source_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "net.py"
    source.write_text(Path(models.__file__).read_text())
    before = source.read_text()
    code, _ = _invoke("run", f"{source}:SimpleNet", "-o", str(source))
    assert code == 2 and source.read_text() == before
