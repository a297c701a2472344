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
    """onnx.checker, shape inference and model info, then the graph and target lint rules, then
    the verdict over both. The file is read once."""
    from onnxproof.checking import check_model, read_model
    from onnxproof.linting import check_findings, lint_graph, load_target

    for name in targets:
        load_target(name)  # an unknown target is a usage error before any work
    model = read_model(path)
    report = check_model(path, model)
    info = report.info
    findings = check_findings(report)
    if info is not None:
        # External data is read from the model's own folder only, never the working directory.
        base_dir = Path(path).parent
        findings += lint_graph(model, info, targets=targets, specs=specs, base_dir=base_dir)
    status = status_from(findings, checks_passed=report.passed, fail_on=fail_on)
    return dataclasses.replace(report, targets=tuple(targets), findings=findings, status=status)
