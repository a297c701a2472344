"""Two real runs shared by the report tests: a planted divergence (localized) and a pass."""

from __future__ import annotations

from pathlib import Path

import pytest

import onnxproof
from onnxproof.linting import STRICT_ENV
from onnxproof.results import RunReport
from tests import models


def _run(*args: object, **kwargs: object) -> RunReport:
    with pytest.MonkeyPatch.context() as patch:  # lint rules must not crash here either
        patch.setenv(STRICT_ENV, "1")
        return onnxproof.run(*args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory: pytest.TempPathFactory) -> RunReport:
    """blocks.3 takes an export-only path: parity fails and localization finds the block."""
    folder = tmp_path_factory.mktemp("failing")
    report = _run(
        models.Blocks(bad=3), inputs=["x:float32[batch,4]"], output=folder / "blocks.onnx"
    )
    assert report.status == "fail" and report.localization is not None
    return report


@pytest.fixture(scope="module")
def passing_run(tmp_path_factory: pytest.TempPathFactory) -> RunReport:
    folder: Path = tmp_path_factory.mktemp("passing")
    report = _run(models.SimpleNet(), inputs=["x:float32[batch,10]"], output=folder / "simple.onnx")
    assert report.status == "pass"
    return report
