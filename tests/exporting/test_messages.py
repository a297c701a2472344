"""Why an exporter failed: a short line for tables, and the whole cause kept beside it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from onnxproof.errors import ExportError
from onnxproof.exporting import export_model
from onnxproof.exporting._messages import cause_text
from onnxproof.results import ExportAttempt
from onnxproof.specs import parse_input_specs

SPECS = parse_input_specs(["x:float32[batch,4]"])
ARGS = (torch.randn(2, 4),)


class ReadsDataPointer(nn.Module):
    """torch.export traces with fake tensors, which have no data pointer."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + (x.data_ptr() % 2)


class BranchOnSum(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return x * 2
        return x - 1


def _dynamo_attempt(module: nn.Module, tmp_path: Path) -> ExportAttempt:
    with pytest.raises(ExportError) as info:
        export_model(module, SPECS, tmp_path / "m.onnx", args=ARGS, exporter="dynamo")
    (attempt,) = info.value.attempts
    return attempt


def test_short_error_names_the_cause_not_the_advice(tmp_path: Path) -> None:
    attempt = _dynamo_attempt(ReadsDataPointer(), tmp_path)
    error = attempt.error or ""
    assert error.startswith("Failed to export the model with torch.export: RuntimeError: ")
    assert "Cannot access data pointer of Tensor" in error
    assert "Next steps" not in error and "\n" not in error
    detail = attempt.detail or ""
    # the cause whole, to its last sentence; torch's advice and stack pointers dropped
    assert "Cannot access data pointer of Tensor (e.g. FakeTensor, FunctionalTensor)" in detail
    assert "please wrap the custom kernel into an opaque custom op" in detail
    assert "custom_ops_landing_page.html" in detail
    for boilerplate in ("Next steps", "submit a PR", "## Exception summary", "full stack trace"):
        assert boilerplate not in detail
    assert "\x1b[" not in detail and "<class '" not in detail


def test_multi_line_cause_kept_whole(tmp_path: Path) -> None:
    attempt = _dynamo_attempt(BranchOnSum(), tmp_path)
    assert "data-dependent control flow at " in (attempt.error or "")
    detail = attempt.detail or ""
    assert detail.startswith(
        "Failed to export the model with torch.export: GuardOnDataDependentSymNode: "
        "Could not guard on data-dependent expression"
    )
    # the lines after the first: the suggestion and the user's own line
    assert "consider using data-dependent friendly APIs" in detail
    assert "The following call raised this error:" in detail
    assert "if x.sum() > 0:" in detail and str(Path(__file__)) in detail
    assert "Next steps" not in detail and "\x1b[" not in detail


def test_tracebacks_are_dropped_and_plain_errors_kept() -> None:
    text = (
        "RuntimeError: outer\n"
        "Traceback (most recent call last):\n"
        '  File "/x/y.py", line 3, in f\n'
        "    g()\n"
        "    ^^^\n"
        "ValueError: inner reason\n"
        "second line of the reason\n"
        "Exception raised from foo at bar.cpp:12 (most recent call first):\n"
        "frame #0: c10::Error::Error() + 0x1\n"
        "frame #1: at::native::foo() + 0x2\n"
    )
    assert cause_text(text) == (
        "RuntimeError: outer\nValueError: inner reason\nsecond line of the reason"
    )
