"""Terminal rendering: what a person wants to read after a run, a check or an export.

Every function returns lines (ANSI colour codes included; the sink strips them when colour is
off). Results in, text out: nothing here runs anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from onnxproof.report._text import line, mark, paint, table

if TYPE_CHECKING:
    from onnxproof.linting.codes import FindingCode
    from onnxproof.results import (
        CheckReport,
        ExportResult,
        Finding,
        ModelInfo,
        ParityReport,
        RunReport,
        TensorInfo,
    )

_SEVERITY_STYLE = {"error": "red", "warning": "yellow", "info": "cyan"}
_VERDICT = {
    "pass": paint("PASS", "bold green"),
    "fail": paint("FAIL", "bold red"),
    "error": paint("ERROR", "bold yellow") + " (could not judge)",
}


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def render_verdict(status: str) -> list[str]:
    return ["", _VERDICT[status]]


def render_export(result: ExportResult) -> list[str]:
    """`onnxproof export`: each attempt, then the file written."""
    parts = []
    for attempt in result.attempts:
        status = "ok" if attempt.ok else f"failed: {attempt.error}"
        parts.append(
            line(attempt.ok, "exporter", f"{attempt.strategy} ({attempt.seconds:.1f} s) {status}")
        )
    side = f" + {result.external_data_file}" if result.external_data_file else ""
    opset = f"opset {result.opset_written}"
    if result.opset_written != result.opset_requested:
        opset += f" (asked for {result.opset_requested})"
    parts.append(line(True, "exported", f"{result.onnx_path}{side} ({result.exporter}, {opset})"))
    # A bound the exporter derived from a branch on the size: the file holds one path only.
    parts += [
        line(None, "range", f"dim {r.name!r} valid only in [{r.low}, {r.high}] per {r.source}")
        for r in result.dim_ranges
        if r.high is not None
    ]
    return parts


def render_check(report: CheckReport, *, with_info: bool = True) -> list[str]:
    checker = "passed (full check)" if report.checker_passed else f"failed: {report.checker_error}"
    parts = [line(report.checker_passed, "checker", checker)]
    if report.shape_inference_passed is False:
        parts.append(
            line(False, "shapes", f"shape inference failed: {report.shape_inference_error}")
        )
    elif report.shape_inference_passed:
        parts.append(line(True, "shapes", "strict shape inference passed"))
    if with_info and report.info is not None:
        parts.extend(render_info(report.info))
    return parts


def render_info(info: ModelInfo) -> list[str]:
    rows = [
        [kind, value.name, value.dtype, _shape(value)]
        for kind, values in (("input", info.inputs), ("output", info.outputs))
        for value in values
    ]
    opsets = ", ".join(f"{d} {v}" for d, v in info.opset_imports.items())
    side = (
        f" + external data {', '.join(info.external_data_files)}"
        if info.external_data_files
        else ""
    )
    summary = (
        f"{info.node_count} nodes, {info.parameter_count:,} parameters, "
        f"{human_size(info.file_size)}{side}; opsets: {opsets}"
    )
    return ["", *table(rows, header=["", "name", "dtype", "shape"]), paint(summary, "dim")]


def _shape(value: TensorInfo) -> str:
    if value.shape is None:
        return "?"
    return "[" + ", ".join("?" if d is None else str(d) for d in value.shape) + "]"


def render_parity(parity: ParityReport) -> list[str]:
    if not parity.available:
        return [line(None, "parity", f"{parity.runtime}: {parity.unavailable_reason}")]
    if parity.load_error is not None:
        return [line(False, "parity", parity.load_error)]
    ran = [c for c in parity.cases if not c.skipped]
    sizes = sorted({tuple(sorted(c.sizes.items())) for c in ran})
    shown = "; ".join(", ".join(f"{k}={v}" for k, v in s) for s in sizes if s) or "static shapes"
    draws = ", ".join(sorted({c.draw for c in ran}))
    passed = sum(c.passed for c in ran)
    header = (
        f"{parity.runtime} vs {parity.reference}: {passed}/{len(ran)} cases passed "
        f"(sizes {shown}; draws {draws})"
    )
    parts = [line(parity.passed, "parity", header)]
    if parity.details:
        shown = "; ".join(f"{k}: {v}" for k, v in parity.details.items())
        parts.append(paint(f"            {shown}", "dim"))
    rows = []
    for out in parity.outputs:
        # An output is only as good as the cases it was compared on: cases that failed to run
        # leave it unproven there, never a plain tick.
        complete = out.cases_compared >= len(ran)
        rows.append(
            [
                out.name,
                out.dtype,
                f"{out.cases_compared}/{len(ran)}",
                f"{out.max_abs_diff:.2e}",
                f"{out.max_rel_diff:.2e}",
                f"{out.mismatch_fraction:.2%}",
                f"{out.atol:g} / {out.rtol:g}",
                f"{out.min_passing_atol:.1e}",
                mark(out.passed if complete or not out.passed else None),
            ]
        )
    header_row = ["output", "dtype", "cases", "max abs", "max rel", "mismatch", "atol / rtol"]
    parts += table(rows, header=[*header_row, "min atol", ""], right=range(2, 8))
    not_finite = [o.name for o in parity.outputs if o.reference_all_nonfinite]
    if not_finite:
        names = ", ".join(not_finite)
        parts.append(paint(f"  nothing of {names} was compared: PyTorch gave NaN/inf", "yellow"))
    elif parity.outputs and not parity.compared_elements:
        parts.append(paint("  nothing was compared: every output had 0 elements", "yellow"))
    for out in parity.outputs:
        if out.cases_reference_nan and not out.reference_all_nonfinite:
            text = (
                f"  {out.name}: {out.cases_reference_nan} case(s) not compared (PyTorch gave NaN)"
            )
            parts.append(paint(text, "yellow"))
    skipped = [c for c in parity.cases if c.skipped]
    if skipped:
        parts.append(paint(f"  {len(skipped)} case(s) skipped: {skipped[0].error}", "yellow"))
    failed = [c for c in parity.cases if not c.passed]
    for case in failed[:5]:
        sizes_text = ", ".join(f"{k}={v}" for k, v in case.sizes.items()) or "-"
        what = case.error or f"outputs {', '.join(case.failed_outputs)} outside tolerance"
        parts.append(f"  {paint(f'case {case.index}', 'red')} ({sizes_text}, {case.draw}): {what}")
    if len(failed) > 5:
        parts.append(f"  … and {len(failed) - 5} more failed cases (see --json)")
    return parts


def render_runtimes(reports: Sequence[ParityReport]) -> list[str]:
    """Every runtime's outputs in one table, so the odd one out stands out."""
    rows = []
    for parity in reports:
        call = parity.median_call_ms
        timing = f"{call:.3f}" if call is not None else "-"
        if not parity.available or parity.load_error is not None:
            why = "not run" if not parity.available else "could not load"
            rows.append([parity.runtime, "-", "-", "-", "-", "-", paint(why, "yellow")])
            continue
        for out in parity.outputs:
            rel = "-" if out.rel_l2_error is None else f"{out.rel_l2_error:.1e}"
            verdict = paint("pass", "green") if out.passed else paint("fail", "red")
            rows.append(
                [
                    parity.runtime,
                    out.name,
                    f"{out.max_abs_diff:.2e}",
                    rel,
                    f"{out.mismatch_fraction:.2%}",
                    timing,
                    verdict,
                ]
            )
    header = ["runtime", "output", "max abs", "rel L2", "mismatch", "ms/call", "verdict"]
    note = "  each against torch; ms/call is the median call as onnxproof made it (a worker's "
    note += "round trip included: onnxproof bench times inside the runtime)"
    return ["", paint("runtimes", "bold"), *table(rows, header=header, right=range(2, 6)),
            paint(note, "dim")]  # fmt: skip


def render_findings(findings: Iterable[Finding]) -> list[str]:
    parts = []
    for f in findings:
        severity = paint(f"{f.severity.value:<7}", _SEVERITY_STYLE[f.severity.value])
        where = f" [{f.location}]" if f.location else ""
        parts.append(f"{severity} {paint(f.code, 'bold')}: {f.message}{where}")
        if f.hint:
            parts.append(paint(f"         fix: {f.hint}", "dim"))
    return parts


def render_code(entry: FindingCode) -> list[str]:
    """One catalogue entry, as `onnxproof explain CODE` prints it."""
    style = _SEVERITY_STYLE[entry.severity.value]
    parts = [f"{paint(entry.code, 'bold')} ({paint(entry.severity.value, style)})", entry.summary]
    if entry.severity_note:
        parts.append(paint(f"Severity: {entry.severity_note}.", "dim"))
    if entry.details:
        parts += ["", entry.details]
    return [*parts, "", f"Fix: {entry.fix}"]


def render_exported(report: RunReport) -> list[str]:
    """The export attempts of a run: each failed one, then the file written (or that none was)."""
    export = report.export
    if export is None:
        return []
    parts = [
        line(False, "exporter", f"{a.strategy} failed: {a.error}")
        for a in export.attempts
        if not a.ok
    ]
    if export.onnx_path is None:
        # Nothing was written: the causes in full are what the user reads next.
        for attempt in export.attempts:
            detail = (attempt.detail or "").splitlines()[:8]
            parts += [paint(f"            {attempt.strategy}: {text}", "dim") for text in detail]
        return [*parts, line(False, "export", "no exporter could export the model (see findings)")]
    size = report.check.info.file_size if report.check and report.check.info else 0
    side = f" + {export.external_data_file}" if export.external_data_file else ""
    opset = f"opset {report.opset or export.opset_written}"
    if export.opset_requested != export.opset_written:
        opset += f" (asked for {export.opset_requested})"
    text = f"{export.onnx_path}{side} ({export.exporter}, {opset}, {human_size(size)}, "
    parts.append(line(True, "exported", f"{text}{export.seconds:.1f} s)"))
    if report.opset_reason:
        parts.append(paint(f"            opset: {report.opset_reason}", "dim"))
    return parts


def render_run(report: RunReport) -> list[str]:
    from onnxproof.report.generation import render_generation
    from onnxproof.report.sections import render_data, render_localization

    parts = [paint(f"onnxproof · {report.model}", "bold"), *render_exported(report)]
    if report.check is not None:
        parts += render_check(report.check, with_info=False)
    for parity in report.runtimes or ([report.verification] if report.verification else []):
        parts += render_parity(parity)
    if len(report.runtimes) > 1:
        parts += render_runtimes(report.runtimes)
    if report.data is not None:
        parts += render_data(report.data)
    if report.localization is not None:
        parts += render_localization(report.localization)
    if report.generation is not None:
        parts += render_generation(report.generation)
    for step in report.steps:
        if step.state == "error":
            parts.append(line(None, step.name, f"could not judge: {step.detail}"))
    if report.check is not None and report.check.info is not None:
        parts += render_info(report.check.info)
    if report.findings:
        parts += ["", *render_findings(report.findings)]
    if report.repro_bundle:
        parts.append(f"repro bundle: {report.repro_bundle} (python reproduce.py in it)")
    return parts + render_verdict(report.status)
