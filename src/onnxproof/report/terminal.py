"""Terminal rendering with rich: what a person wants to read after a run, check or export."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from onnxproof.results import (
    CheckReport,
    DatasetReport,
    ExportResult,
    Finding,
    Localization,
    ModelInfo,
    ParityReport,
    RunReport,
    TensorInfo,
)

if TYPE_CHECKING:
    from onnxproof.linting.codes import FindingCode

_MARK = {True: "[green]✓[/]", False: "[red]✗[/]", None: "[yellow]–[/]"}
_SEVERITY_STYLE = {"error": "red", "warning": "yellow", "info": "cyan"}


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def _line(ok: bool | None, label: str, text: str) -> Text:
    return Text.from_markup(f"{_MARK[ok]} {label:<9} ") + Text(text)


def render_export(result: ExportResult) -> list[RenderableType]:
    parts: list[RenderableType] = []
    for attempt in result.attempts:
        status = "ok" if attempt.ok else f"failed: {attempt.error}"
        parts.append(
            _line(attempt.ok, "exporter", f"{attempt.strategy} ({attempt.seconds:.1f} s) {status}")
        )
    side = f" + {result.external_data_file}" if result.external_data_file else ""
    opset = f"opset {result.opset_written}"
    if result.opset_written != result.opset_requested:
        opset += f" (asked for {result.opset_requested})"
    parts.append(_line(True, "exported", f"{result.onnx_path}{side} ({result.exporter}, {opset})"))
    return parts


def render_check(report: CheckReport) -> list[RenderableType]:
    parts: list[RenderableType] = [
        _line(
            report.checker_passed,
            "checker",
            "passed (full check)" if report.checker_passed else f"failed: {report.checker_error}",
        ),
    ]
    if report.shape_inference_passed is False:
        parts.append(
            _line(False, "shapes", f"shape inference failed: {report.shape_inference_error}")
        )
    elif report.shape_inference_passed:
        parts.append(_line(True, "shapes", "strict shape inference passed"))
    if report.info is not None:
        parts.extend(render_info(report.info))
    return parts


def render_info(info: ModelInfo) -> list[RenderableType]:
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("")
    table.add_column("name")
    table.add_column("dtype")
    table.add_column("shape")
    for kind, values in (("input", info.inputs), ("output", info.outputs)):
        for value in values:
            table.add_row(kind, Text(value.name), value.dtype, Text(_shape(value)))
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
    return [Text(""), table, Text(summary, style="dim")]


def _shape(value: TensorInfo) -> str:
    if value.shape is None:
        return "?"
    return "[" + ", ".join("?" if d is None else str(d) for d in value.shape) + "]"


def render_parity(parity: ParityReport) -> list[RenderableType]:
    if not parity.available:
        return [_line(None, "parity", f"{parity.runtime}: {parity.unavailable_reason}")]
    if parity.load_error is not None:
        return [_line(False, "parity", parity.load_error)]
    ran = [c for c in parity.cases if not c.skipped]
    sizes = sorted({tuple(sorted(c.sizes.items())) for c in ran})
    shown = "; ".join(", ".join(f"{k}={v}" for k, v in s) for s in sizes if s) or "static shapes"
    draws = sorted({c.draw for c in ran})
    header = (
        f"{parity.runtime} vs {parity.reference}: {sum(c.passed for c in ran)}/{len(ran)} cases passed "
        f"(sizes {shown}; draws {', '.join(draws)})"
    )
    parts: list[RenderableType] = [_line(parity.passed, "parity", header)]
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in (
        "output",
        "dtype",
        "cases",
        "max abs",
        "max rel",
        "mismatch",
        "atol / rtol",
        "min atol",
        "",
    ):
        table.add_column(column, justify="left" if column in ("output", "dtype", "") else "right")
    for out in parity.outputs:
        # An output is only as good as the cases it was compared on: cases that failed to run
        # leave it unproven there, never a plain tick.
        complete = out.cases_compared >= len(ran)
        table.add_row(
            Text(out.name),
            out.dtype,
            f"{out.cases_compared}/{len(ran)}",
            f"{out.max_abs_diff:.2e}",
            f"{out.max_rel_diff:.2e}",
            f"{out.mismatch_fraction:.2%}",
            f"{out.atol:g} / {out.rtol:g}",
            f"{out.min_passing_atol:.1e}",
            _MARK[out.passed if complete or not out.passed else None],
        )
    if parity.outputs:
        parts.append(table)
    skipped = [c for c in parity.cases if c.skipped]
    if skipped:
        parts.append(Text(f"  {len(skipped)} case(s) skipped: {skipped[0].error}", style="yellow"))
    if parity.outputs and not any(o.compared_elements for o in parity.outputs):
        parts.append(Text("  nothing was compared: every output had 0 elements", style="yellow"))
    failed = [c for c in parity.cases if not c.passed]
    for case in failed[:5]:
        sizes_text = ", ".join(f"{k}={v}" for k, v in case.sizes.items()) or "-"
        what = case.error or f"outputs {', '.join(case.failed_outputs)} outside tolerance"
        parts.append(
            Text.from_markup(f"  [red]case {case.index}[/] ({sizes_text}, {case.draw}): ")
            + Text(what)
        )
    if len(failed) > 5:
        parts.append(Text(f"  … and {len(failed) - 5} more failed cases (see --json)"))
    return parts


def render_findings(findings: Iterable[Finding]) -> list[RenderableType]:
    parts: list[RenderableType] = []
    for f in findings:
        style = _SEVERITY_STYLE[f.severity.value]
        where = f" [{f.location}]" if f.location else ""
        parts.append(
            Text.from_markup(f"[{style}]{f.severity.value:<7}[/] [bold]{f.code}[/]: ")
            + Text(f"{f.message}{where}")
        )
        if f.hint:
            parts.append(Text(f"         fix: {f.hint}", style="dim"))
    return parts


def render_data(data: DatasetReport) -> list[RenderableType]:
    header = f"{data.samples:,} samples in {data.batches} batches from {data.source}"
    if data.failed_batches:
        header += f"; {data.failed_batches} batch(es) failed to run"
    parts: list[RenderableType] = [_line(data.passed, "data", header)]
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    columns = (
        "output",
        "max abs",
        "mean abs",
        "p99 abs",
        "rel L2",
        "cosine",
        "mismatch",
        "worst samples",
        "",
    )
    for column in columns:
        table.add_column(
            column, justify="left" if column in ("output", "worst samples", "") else "right"
        )
    for out in data.outputs:
        worst = ", ".join(str(w.index) for w in out.worst_samples[:3]) or "-"
        table.add_row(
            Text(out.name),
            f"{out.max_abs_diff:.2e}",
            f"{out.mean_abs_diff:.2e}",
            f"{out.p99_abs_diff:.2e}",
            f"{out.rel_l2_error:.2e}",
            f"{out.cosine_similarity:.6f}",
            f"{out.mismatch_fraction:.2%}",
            worst,
            _MARK[out.passed],
        )
    parts.append(table)
    for out in data.outputs:
        if out.topk_agreement:
            agree = ", ".join(f"{k} {v:.2%}" for k, v in out.topk_agreement.items())
            parts.append(Text(f"    {out.name}: PyTorch and ONNX predictions agree: {agree}"))
    for error in data.errors[:3]:
        parts.append(Text(f"    {error}", style="red"))
    return parts


def render_localization(loc: Localization) -> list[RenderableType]:
    if loc.first_divergent_module is None:
        matched = sum(1 for m in loc.trail if m.diverged is not None)
        return [_line(True, "localize", f"no module diverges ({matched} compared on {loc.case})")]
    nodes = ", ".join(loc.onnx_nodes[:6]) + (" …" if len(loc.onnx_nodes) > 6 else "")
    parts: list[RenderableType] = [
        _line(
            False,
            "localize",
            f"first divergent module: {loc.first_divergent_module} ({loc.module_type}), "
            f"max abs diff {loc.error:.3g} on {loc.case}; ONNX nodes: {nodes}",
        )
    ]
    start = next(i for i, m in enumerate(loc.trail) if m.module == loc.first_divergent_module)
    for entry in loc.trail[max(0, start - 1) : start + 6]:
        if entry.diverged is None:
            continue
        mark = "✗" if entry.diverged else "✓"
        parts.append(
            Text(
                f"    {mark} {entry.module:<24} {entry.module_type:<14} max abs {entry.max_abs_diff:.2e}"
            )
        )
    if loc.unmatched_modules:
        parts.append(
            Text(
                f"    no ONNX counterpart (fused or folded): {', '.join(loc.unmatched_modules[:8])}",
                style="dim",
            )
        )
    return parts


def render_code(entry: FindingCode) -> RenderableType:
    """One catalogue entry, as `onnxproof explain CODE` prints it."""
    style = _SEVERITY_STYLE[entry.severity.value]
    parts: list[RenderableType] = [
        Text.from_markup(f"[bold]{entry.code}[/] ([{style}]{entry.severity.value}[/])"),
        Text(entry.summary),
    ]
    if entry.severity_note:
        parts.append(Text(f"Severity: {entry.severity_note}.", style="dim"))
    if entry.details:
        parts += [Text(""), Text(entry.details)]
    parts += [Text(""), Text(f"Fix: {entry.fix}")]
    return Group(*parts)


_VERDICT = {
    "pass": "[bold green]PASS[/]",
    "fail": "[bold red]FAIL[/]",
    "error": "[bold yellow]ERROR[/] (could not judge)",
}


def render_verdict(status: str) -> RenderableType:
    return Group(Text(""), Text.from_markup(_VERDICT[status]))


def render_exported(report: RunReport) -> list[RenderableType]:
    """The export attempts: each failed one, then the file written (or that none was)."""
    export = report.export
    if export is None:
        return []
    parts: list[RenderableType] = []
    for attempt in export.attempts:
        if not attempt.ok:
            parts.append(_line(False, "exporter", f"{attempt.strategy} failed: {attempt.error}"))
    if export.onnx_path is None:
        parts.append(_line(False, "export", "no exporter could export the model (see findings)"))
        return parts
    size = report.check.info.file_size if report.check and report.check.info else 0
    side = f" + {export.external_data_file}" if export.external_data_file else ""
    opset = f"opset {report.opset or export.opset_written}"
    if export.opset_requested != export.opset_written:
        opset += f" (asked for {export.opset_requested})"
    parts.append(
        _line(
            True,
            "exported",
            f"{export.onnx_path}{side} ({export.exporter}, {opset}, {human_size(size)}, "
            f"{export.seconds:.1f} s)",
        )
    )
    if report.opset_reason:
        parts.append(Text(f"            opset: {report.opset_reason}", style="dim"))
    return parts


def render_run(report: RunReport) -> RenderableType:
    parts: list[RenderableType] = [Text(f"onnxproof · {report.model}", style="bold")]
    parts.extend(render_exported(report))
    if report.check is not None:
        parts.extend(
            render_check(report.check)[:2] if report.check.info else render_check(report.check)
        )
    if report.verification is not None:
        parts.extend(render_parity(report.verification))
    if report.data is not None:
        parts.extend(render_data(report.data))
    if report.localization is not None:
        parts.extend(render_localization(report.localization))
    for step in report.steps:
        if step.state == "error":
            parts.append(_line(None, step.name, f"could not judge: {step.detail}"))
    if report.check is not None and report.check.info is not None:
        parts.extend(render_info(report.check.info))
    if report.findings:
        parts.append(Text(""))
        parts.extend(render_findings(report.findings))
    parts.append(render_verdict(report.status))
    return Group(*parts)
