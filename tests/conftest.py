"""Shared fixtures: paths to the tiny models and a helper to run the CLI in-process."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from onnxproof.cli import app

MODELS = Path(__file__).parent / "models.py"


def ref(name: str) -> str:
    """A model reference into tests/models.py."""
    return f"{MODELS}:{name}"


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None


@pytest.fixture(autouse=True)
def strict_lint(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lint rule that crashes is skipped for users (logged); in the tests it must fail."""
    from onnxproof.linting import STRICT_ENV

    monkeypatch.setenv(STRICT_ENV, "1")


@pytest.fixture
def cli(tmp_path: Path):
    """Run `onnxproof ARGS` in-process; parse the JSON report when --json was given."""

    def invoke(*args: str) -> CliResult:
        result = CliRunner().invoke(app, list(args), catch_exceptions=False)
        report = None
        if "--json" in args:
            path = Path(args[args.index("--json") + 1])
            if path.exists():
                report = json.loads(path.read_text())
        return CliResult(result.exit_code, result.stdout, result.stderr, report)

    return invoke
