"""Bad usage and bad input: one line naming what was wrong and what to do, exit 2, before any work."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from onnxproof.cli import app
from tests.conftest import ref


def _invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _one_error(stderr: str) -> str:
    """The error line of a one-line error (a hint line may follow); fails on anything else."""
    lines = stderr.strip().splitlines()
    assert lines and lines[0].startswith("error: "), stderr
    assert len(lines) <= 2 and all(line.startswith("  → ") for line in lines[1:]), stderr
    return lines[0]


def test_click_usage_errors_are_one_line_with_exit_2() -> None:
    for args, what in [
        (("run", "--batch-size", "0"), "--batch-size"),
        (("verify", "x.py:Net"), "ONNX_FILE"),
        (("run", "--no-such-option"), "--no-such-option"),
        (("no-such-command",), "no-such-command"),
    ]:
        result = _invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert what in _one_error(result.stderr), result.stderr
        assert "Usage:" not in result.output


def test_help_and_no_arguments_still_show_the_help() -> None:
    assert "--batch-size" in _invoke("run", "--help").stdout
    assert "Commands:" in _invoke().output
