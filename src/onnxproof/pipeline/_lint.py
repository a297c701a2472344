"""Check and lint one file: the checker's verdict and the findings, with the status over both."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from onnxproof.results import CheckReport, status_from
from onnxproof.specs import Severity, TensorSpec


def checked(
    path: str | Path,
    targets: Sequence[str] = (),
    specs: tuple[TensorSpec, ...] | None = None,
    fail_on: Severity | str = Severity.ERROR,
) -> CheckReport:
    """onnx.checker, shape inference and model info, then the graph and target lint rules."""
    from onnxproof.checking import check_model

    report = check_model(path, targets=targets, specs=specs)
    status = status_from(report.findings, checks_passed=report.passed, fail_on=fail_on)
    return dataclasses.replace(report, status=status)
