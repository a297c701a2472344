"""A short Markdown summary for a pull-request comment or ``$GITHUB_STEP_SUMMARY``.

The verdict with its exit code, one small table (a row per step: export, check, each runtime,
data, localization) and the findings, errors first. Kept to a screenful: the HTML and JSON
reports hold the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from onnxproof.report._checks import checks, fmt, reason, verdict_line
from onnxproof.report._write import write_text

if TYPE_CHECKING:
    from onnxproof.results import DatasetReport, ParityReport, RunReport

_ICON = {"pass": "✅", "fail": "❌", "error": "⚠️", "skipped": "➖"}
#: Findings listed at most; the rest are counted.
MAX_FINDINGS = 15


def render_markdown(report: RunReport) -> str:
    """The summary as GitHub-flavoured Markdown."""
    lines = [f"### {_ICON[report.status]} onnxproof: {_cell(verdict_line(report))}", ""]
    subject = f"`{_code(report.model)}`"
    if report.onnx_path:
        subject += f" → `{_code(report.onnx_path)}`"
    lines.append(subject)
    why = reason(report)
    if why:
        lines += ["", f"**Why:** {_cell(why)}"]
    lines += ["", "| check | result | detail |", "|---|:---:|---|"]
    lines += [
        f"| {name} | {_ICON[state]} | {_cell(detail)} |" for name, state, detail in _rows(report)
    ]
    errors = [f for f in report.findings if f.severity.value == "error"]
    others = [f for f in report.findings if f.severity.value != "error"]
    ordered = errors + others
    if ordered:
        lines += ["", f"**Findings** ({len(errors)} error(s), {len(others)} other)", ""]
        for finding in ordered[:MAX_FINDINGS]:
            icon = {"error": "❌", "warning": "⚠️"}.get(finding.severity.value, "ℹ️")
            fix = f" — *fix:* {_cell(finding.hint)}" if finding.hint else ""
            lines.append(f"- {icon} `{finding.code}`: {_cell(finding.message)}{fix}")
        if len(ordered) > MAX_FINDINGS:
            lines.append(
                f"- … and {len(ordered) - MAX_FINDINGS} more (see the HTML or JSON report)"
            )
    found = checks(report)
    failed = sum(c.state == "fail" for c in found)
    lines += [
        "",
        f"<sub>{len(found)} checks, {failed} failed · onnxproof "
        f"{report.environment.onnxproof if report.environment else ''}</sub>",
        "",
    ]
    return "\n".join(lines)


def write_markdown(report: RunReport, path: str | Path, *, append: bool = False) -> None:
    """``render_markdown(report)`` written atomically to ``path`` ('-' for stdout); ``append``
    adds it to the end instead, as ``$GITHUB_STEP_SUMMARY`` expects."""
    if append and str(path) != "-":
        text = render_markdown(report)  # rendered first: a stop while rendering appends nothing
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
        return
    write_text(render_markdown(report), path)


def _rows(report: RunReport) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    export = report.export
    if export is not None:
        if export.onnx_path is not None:
            rows.append(("export", "pass", f"{export.exporter}, opset {export.opset_written}"))
        else:
            rows.append(("export", "fail", "no exporter could export the model"))
    if report.check is not None:
        check = report.check
        state = "pass" if check.passed else "fail"
        detail = check.checker_error or check.shape_inference_error or "checker and shape inference"
        rows.append(("ONNX check", state, detail))
    parities = report.runtimes or ((report.verification,) if report.verification else ())
    rows += [_parity_row(p) for p in parities]
    if report.data is not None:
        rows.append(_data_row(report.data))
    generation = report.generation
    if generation is not None:
        tokens = f"{len(generation.steps)} steps with the cache, tokens " + (
            "agree" if generation.eager_tokens == generation.onnx_tokens else "differ"
        )
        if generation.passed:
            rows.append(("generation", "pass", tokens))
        else:
            module = generation.first_divergent_module
            where = f"; first divergent module `{_code(module)}`" if module else ""
            detail = f"{tokens}; step {generation.first_divergent_step} diverges{where}"
            rows.append(("generation", "fail", detail))
    loc = report.localization
    if loc is not None:
        if loc.unreproduced:
            rows.append(("localize", "not run", f"inconclusive: {loc.unreproduced}"))
        elif loc.first_divergent_module:
            detail = (
                f"first divergent module `{_code(loc.first_divergent_module)}` "
                f"({loc.module_type}), max abs diff {fmt(loc.error, '.3g')}"
            )
            rows.append(("localize", "fail", detail))
        else:
            rows.append(("localize", "pass", "no module diverges"))
    return rows


def _parity_row(parity: ParityReport) -> tuple[str, str, str]:
    name = f"parity · {parity.runtime}"
    if not parity.available:
        return name, "error", parity.unavailable_reason or "not available"
    if parity.load_error is not None:
        return name, "fail", parity.load_error
    ran = [c for c in parity.cases if not c.skipped]
    passed = sum(c.passed for c in ran)
    worst = max(parity.outputs, key=lambda o: (not o.passed, o.max_abs_diff), default=None)
    detail = f"{passed}/{len(ran)} cases"
    if worst is not None:
        detail += (
            f"; worst `{_code(worst.name)}` max abs {fmt(worst.max_abs_diff)} "
            f"(atol {worst.atol:g}, rtol {worst.rtol:g})"
        )
    return name, "pass" if parity.passed else "fail", detail


def _data_row(data: DatasetReport) -> tuple[str, str, str]:
    if data.samples == 0:
        return "data", "error", f"{data.source} held no samples"
    worst = max(data.outputs, key=lambda o: (not o.passed, o.max_abs_diff), default=None)
    detail = f"{data.samples:,} samples"
    if worst is not None:
        detail += f"; worst `{_code(worst.name)}` max abs {fmt(worst.max_abs_diff)}, p99 {fmt(worst.p99_abs_diff)}"
    return "data", "pass" if data.passed else "fail", detail


def _cell(text: str) -> str:
    """Text safe in a table cell: one line, pipes escaped, HTML-ish brackets neutral."""
    flat = " ".join(str(text).split())
    return flat.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    """Text inside backticks: no backtick can close it early."""
    return str(text).replace("`", "'").replace("|", "\\|")
