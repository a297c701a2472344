"""A run report as a flat list of checks, each passed, failed, not judged or skipped.

JUnit writes one testcase per check and Markdown and HTML count them, so the three agree on what
was checked. Also the verdict words: what each status means as an exit code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from onnxproof.linting.codes import CODES
from onnxproof.linting.value_rules import value_failure
from onnxproof.specs import Severity

if TYPE_CHECKING:
    from onnxproof.results import (
        DatasetReport,
        ExportResult,
        GenerationReport,
        OutputDatasetMetrics,
        OutputParity,
        ParityReport,
        RunReport,
    )

#: The exit code of each verdict (as the CLI exits) and what it means.
EXIT_CODES = {"pass": 0, "fail": 1, "error": 3}
MEANINGS = {
    "pass": "all checks passed",
    "fail": "the model failed a check (parity, a lint error or the export)",
    "error": "onnxproof could not judge (a runtime was unavailable or a step could not run)",
}

CheckState = Literal["pass", "fail", "error", "skipped"]


@dataclass(frozen=True, kw_only=True)
class Check:
    """One thing that was checked: ``group`` names the family (JUnit's classname)."""

    group: str
    name: str
    state: CheckState
    message: str = ""
    fix: str = ""
    seconds: float = 0.0
    #: What kind of failure (a finding's code); the group when empty.
    kind: str = ""


def verdict_line(report: RunReport) -> str:
    """The verdict and its exit code, in words."""
    code = EXIT_CODES[report.status]
    return f"{report.status.upper()} — exit code {code}: {MEANINGS[report.status]}"


def reason(report: RunReport) -> str:
    """Why the verdict is not a pass, in one line (empty for a pass)."""
    if report.status == "pass":
        return ""
    wanted = "fail" if report.status == "fail" else "error"
    for step in report.steps:
        if step.state == wanted and step.name != "localize":
            return f"{step.name}: {step.detail}" if step.detail else f"{step.name} {step.state}ed"
    errors = [f for f in report.findings if f.severity is Severity.ERROR]
    return f"{errors[0].code}: {errors[0].message}" if errors else ""


def fmt(value: float | None, spec: str = ".2e") -> str:
    """A figure as text; None is a dash, infinities and NaN are words."""
    if value is None:
        return "–"
    if value != value:
        return "nan"
    if value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    return format(value, spec)


def checks(report: RunReport) -> list[Check]:
    """Every check of the run, in the order the run made them."""
    found: list[Check] = []
    if report.export is not None:
        found.append(_export_check(report.export))
    if report.check is not None:
        check = report.check
        found.append(
            Check(
                group="check",
                name="onnx.checker",
                state="pass" if check.checker_passed else "fail",
                message=check.checker_error or "",
                fix=CODES["invalid-model"].fix if not check.checker_passed else "",
            )
        )
        shapes: dict[bool | None, CheckState] = {None: "skipped", True: "pass", False: "fail"}
        shape_state = shapes[check.shape_inference_passed]
        found.append(
            Check(
                group="check",
                name="shape inference",
                state=shape_state,
                message=check.shape_inference_error
                or ("not run" if shape_state == "skipped" else ""),
            )
        )
    first = report.localization.first_divergent_module if report.localization else None
    for parity in report.runtimes or ((report.verification,) if report.verification else ()):
        found += _parity_checks(parity, first)
    if report.data is not None:
        found += _data_checks(report.data)
    if report.generation is not None:
        found.append(_generation_check(report.generation))
    parity_step = report.step("parity")
    if parity_step is not None and parity_step.state == "error":
        if not any(c.group.startswith("parity") and c.state == "error" for c in found):
            found.append(
                Check(group="parity", name="parity", state="error", message=parity_step.detail)
            )
    for step in report.steps:
        if step.state == "error" and step.name not in ("parity", "data"):
            found.append(Check(group="steps", name=step.name, state="error", message=step.detail))
    for finding in report.findings:
        if finding.severity is not Severity.ERROR:
            continue
        where = f" [{finding.location}]" if finding.location else ""
        entry = CODES.get(finding.code)
        fix = finding.hint or (entry.fix if entry else "")
        found.append(
            Check(
                group="findings",
                name=f"{finding.code}: {finding.message}"[:120],
                state="fail",
                message=f"{finding.message}{where}",
                fix=fix,
                kind=finding.code,
            )
        )
    return found


def _generation_check(generation: GenerationReport) -> Check:
    """Greedy decoding with the cache fed back: one check, named after its step count."""
    steps = len(generation.steps)
    name = f"greedy decoding, {steps} steps with the cache"
    if generation.passed:
        return Check(group="generation", name=name, state="pass", seconds=generation.seconds)
    where = f"step {generation.first_divergent_step}: {generation.divergence or 'diverged'}"
    if generation.first_divergent_module:
        where += f"; first divergent module {generation.first_divergent_module}"
    return Check(
        group="generation",
        name=name,
        state="fail",
        message=where,
        fix=CODES["generation-diverged"].fix,
        seconds=generation.seconds,
        kind="generation-diverged",
    )


def _export_check(export: ExportResult) -> Check:
    if export.onnx_path is not None:
        return Check(group="export", name="export", state="pass", seconds=export.seconds)
    errors = "; ".join(f"{a.strategy}: {a.error}" for a in export.attempts if not a.ok)
    return Check(
        group="export",
        name="export",
        state="fail",
        message=errors or "no exporter could export the model",
        fix=CODES["export-failed"].fix,
        seconds=export.seconds,
    )


def _parity_checks(parity: ParityReport, first_divergent: str | None) -> list[Check]:
    group = f"parity.{parity.runtime}"
    if not parity.available:
        return [
            Check(
                group=group, name="runtime", state="error", message=parity.unavailable_reason or ""
            )
        ]
    if parity.load_error is not None:
        fix = CODES["runtime-failure"].fix
        return [Check(group=group, name="load", state="fail", message=parity.load_error, fix=fix)]
    ran = [c for c in parity.cases if not c.skipped]
    found = [_output_check(group, out, len(ran), first_divergent) for out in parity.outputs]
    broken = [c for c in ran if c.error is not None]
    if broken:
        text = "; ".join(f"case {c.index}: {c.error}" for c in broken[:5])
        more = f" (and {len(broken) - 5} more)" if len(broken) > 5 else ""
        found.append(
            Check(
                group=group,
                name="every case ran",
                state="fail",
                message=text + more,
                fix=CODES["runtime-failure"].fix,
            )
        )
    return found


def _output_check(group: str, out: OutputParity, ran: int, first_divergent: str | None) -> Check:
    name = f"output {out.name}"
    if out.passed:
        return Check(group=group, name=name, state="pass")
    failure = value_failure(out, f"on {group}")
    if failure is not None:
        return Check(
            group=group, name=name, state="fail", message=failure.message, fix=failure.hint
        )
    message = (
        f"max abs diff {fmt(out.max_abs_diff, '.3g')} beyond atol {out.atol:g} + rtol "
        f"{out.rtol:g}·|b| on {out.mismatch_fraction:.2%} of {out.compared_elements:,} elements "
        f"({out.cases_compared}/{ran} cases); the smallest atol that passes is "
        f"{fmt(out.min_passing_atol, '.2g')}"
    )
    fix = CODES["output-mismatch"].fix
    if first_divergent:
        fix = f"the first divergent module is {first_divergent}; {fix}"
    return Check(group=group, name=name, state="fail", message=message, fix=fix)


def _data_checks(data: DatasetReport) -> list[Check]:
    if data.samples == 0:
        detail = "; ".join(data.errors[:3]) or f"{data.source} held no samples"
        return [Check(group="data", name="data", state="error", message=detail)]
    found = [_data_output_check(out) for out in data.outputs]
    if data.failed_batches:
        found.append(
            Check(
                group="data",
                name="every batch ran",
                state="fail",
                message=f"{data.failed_batches} batch(es) failed to run: "
                + "; ".join(data.errors[:3]),
                fix=CODES["runtime-failure"].fix,
            )
        )
    return found


def _data_output_check(out: OutputDatasetMetrics) -> Check:
    name = f"output {out.name}"
    if out.passed:
        return Check(group="data", name=name, state="pass")
    failure = value_failure(out, "on the data", generated=False)
    if failure is not None:
        return Check(
            group="data", name=name, state="fail", message=failure.message, fix=failure.hint
        )
    message = (
        f"max abs diff {fmt(out.max_abs_diff, '.3g')} (p99 {fmt(out.p99_abs_diff, '.3g')}) beyond "
        f"atol {out.atol:g} + rtol {out.rtol:g}·|b| on {out.mismatch_fraction:.2%} of "
        f"{out.elements:,} elements over {out.samples:,} samples"
    )
    return Check(
        group="data", name=name, state="fail", message=message, fix=CODES["output-mismatch"].fix
    )
