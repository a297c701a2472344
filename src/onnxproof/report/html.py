"""The HTML report: one self-contained file that opens with no network at all.

Inline CSS and inline SVG only (no script, font, image or style from elsewhere; a
Content-Security-Policy in the page forbids them, so a later edit cannot slip one in). The
verdict comes first, in one line with its exit code; then the model and environment, the export
attempts, the findings with what each code means and how to fix it, the parity tables with an
error histogram per output, the data figures, and the localization trail as a chart. Tables
fold into labelled rows on a phone, and a print stylesheet drops colour backgrounds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from onnxproof.linting.codes import CODES
from onnxproof.report._checks import checks, fmt, reason, verdict_line
from onnxproof.report._html_style import STYLE
from onnxproof.report._svg import histogram_svg, localization_svg
from onnxproof.report._write import write_text
from onnxproof.report.terminal import human_size

if TYPE_CHECKING:
    from onnxproof.results import (
        DatasetReport,
        Environment,
        ExportResult,
        Finding,
        Localization,
        ModelInfo,
        ParityReport,
        RunReport,
        TensorInfo,
    )

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_MARK = {"pass": "✓", "fail": "✗", "error": "?", "skipped": "–", "not-run": "–"}


def render_html(report: RunReport) -> str:
    """The whole page as one string."""
    sections = [
        _header(report),
        _model_section(report),
        _export_section(report.export, report.opset_reason),
        _findings_section(report.findings),
        *(_parity_section(p, report.localization) for p in _parities(report)),
        _data_section(report.data) if report.data is not None else "",
        _localization_section(report) if report.localization is not None else "",
        _footer(report),
    ]
    title = f"onnxproof {report.status.upper()} · {report.model}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<link rel="icon" href="data:,">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n"
        f"<body><main>{''.join(s for s in sections if s)}</main></body></html>\n"
    )


def write_html(report: RunReport, path: str | Path) -> None:
    """``render_html(report)`` written atomically to ``path``."""
    write_text(render_html(report), path)


def _parities(report: RunReport) -> tuple[ParityReport, ...]:
    if report.runtimes:
        return report.runtimes
    return (report.verification,) if report.verification is not None else ()


# --- building blocks ------------------------------------------------------------------------


def _e(value: object) -> str:
    return escape(str(value))


def _section(ident: str, title: str, body: str) -> str:
    return f'<section id="{ident}"><h2>{escape(title)}</h2>{body}</section>'


def _table(
    header: Sequence[str], rows: Iterable[Sequence[str]], *, numeric: Sequence[int] = ()
) -> str:
    """A table whose cells are already HTML; on a phone each row folds into labelled lines."""
    head = "".join(
        f'<th scope="col"{" class=num" if i in numeric else ""}>{escape(h)}</th>'
        for i, h in enumerate(header)
    )
    body = []
    for row in rows:
        cells = "".join(
            f'<td data-label="{escape(header[i])}"{" class=num" if i in numeric else ""}>{c}</td>'
            for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return (
        f'<table class="rows"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def _pairs(items: Iterable[tuple[str, str]]) -> str:
    """A definition list of (term, HTML value) pairs."""
    rows = "".join(f"<div><dt>{escape(k)}</dt><dd>{v}</dd></div>" for k, v in items if v)
    return f'<dl class="pairs">{rows}</dl>'


def _badge(state: str, text: str | None = None) -> str:
    label = text if text is not None else state
    return f'<span class="badge {escape(state)}">{_MARK.get(state, "")} {escape(label)}</span>'


def _code(text: object) -> str:
    return f"<code>{_e(text)}</code>"


# --- sections -------------------------------------------------------------------------------


def _header(report: RunReport) -> str:
    why = reason(report)
    steps = "".join(_badge(s.state, s.name) for s in report.steps)
    found = checks(report)
    failed = sum(c.state == "fail" for c in found)
    unjudged = sum(c.state == "error" for c in found)
    tally = f"{len(found)} checks: {len(found) - failed - unjudged} passed, {failed} failed"
    if unjudged:
        tally += f", {unjudged} not judged"
    path = report.onnx_path
    return (
        f'<header class="verdict {escape(report.status)}">'
        f'<p class="verdict-line" id="verdict">{escape(verdict_line(report))}</p>'
        + (f'<p class="reason">{_e(why)}</p>' if why else "")
        + f'<p class="subject">{_code(report.model)}'
        + (f" → {_code(path)}" if path else "")
        + "</p>"
        + (f'<p class="steps">{steps}</p>' if steps else "")
        + f'<p class="tally">{escape(tally)}</p></header>'
    )


def _model_section(report: RunReport) -> str:
    info = report.check.info if report.check is not None else None
    parts = []
    if info is not None:
        parts.append(_info(info, report))
    if report.environment is not None:
        parts.append(_environment(report.environment))
    if not parts:
        return ""
    return _section("model", "Model and environment", "".join(parts))


def _info(info: ModelInfo, report: RunReport) -> str:
    opsets = ", ".join(f"{d} {v}" for d, v in info.opset_imports.items())
    external = ", ".join(info.external_data_files)
    summary = _pairs(
        [
            ("ONNX file", _code(report.onnx_path) if report.onnx_path else ""),
            ("exporter", _e(report.exporter or "")),
            ("opsets", _e(opsets)),
            ("IR version", _e(info.ir_version)),
            ("producer", _e(info.producer)),
            ("nodes", f"{info.node_count:,}"),
            ("parameters", f"{info.parameter_count:,}"),
            ("file size", _e(human_size(info.file_size))),
            ("external data", _e(external)),
        ]
    )
    rows = [
        [kind, _code(t.name), _e(t.dtype), _code(_shape(t))]
        for kind, values in (("input", info.inputs), ("output", info.outputs))
        for t in values
    ]
    return summary + _table(["", "name", "dtype", "shape"], rows)


def _environment(env: Environment) -> str:
    packages = ", ".join(f"{k} {v}" for k, v in env.packages.items() if v)
    threads = ", ".join(f"{k}={v}" for k, v in env.threads.items())
    return "<h3>Environment</h3>" + _pairs(
        [
            ("onnxproof", _e(env.onnxproof)),
            ("Python", _e(env.python)),
            ("platform", _e(env.platform)),
            ("CPU", _e(f"{env.cpu} ({env.cpu_count} cores)" if env.cpu_count else env.cpu)),
            ("threads", _e(threads)),
            ("packages", _e(packages)),
            ("command", _code(" ".join(env.command)) if env.command else ""),
        ]
    )


def _export_section(export: ExportResult | None, opset_reason: str | None) -> str:
    if export is None:
        return ""
    rows = [
        [
            _e(a.strategy),
            _badge("pass" if a.ok else "fail", "written" if a.ok else "failed"),
            f"{a.seconds:.1f} s",
            f'<span class="message">{_e(a.error)}</span>' if a.error else "",
        ]
        for a in export.attempts
    ]
    opset = f"opset {export.opset_written}" if export.opset_written else ""
    if export.opset_written != export.opset_requested:
        opset += f" (asked for {export.opset_requested})"
    note = _pairs(
        [
            (
                "written",
                _code(export.onnx_path) if export.onnx_path else "nothing: no exporter could",
            ),
            ("opset", _e(opset.strip())),
            ("why this opset", _e(opset_reason or "")),
            ("inputs", _e(", ".join(export.input_specs))),
        ]
    )
    table = _table(["strategy", "result", "time", "error"], rows, numeric=(2,))
    return _section("export", "Export attempts", table + note)


def _findings_section(findings: Sequence[Finding]) -> str:
    if not findings:
        return _section("findings", "Findings", '<p class="muted">No findings.</p>')
    order = {"error": 0, "warning": 1, "info": 2}
    items = []
    for f in sorted(findings, key=lambda f: order.get(f.severity.value, 3)):
        entry = CODES.get(f.code)
        where = [
            (label, value)
            for label, value in (
                ("location", f.location),
                ("node", f.node),
                ("module", f.module),
                ("target", f.target),
            )
            if value
        ]
        fix = f.hint or (entry.fix if entry else "")
        about = ""
        if entry is not None:
            about = f'<p class="about"><strong>{escape(f.code)}</strong>: {escape(entry.summary)}.'
            about += f" {escape(entry.details)}" if entry.details else ""
            about += f" General fix: {escape(entry.fix)}.</p>" if f.hint else "</p>"
        items.append(
            f'<article class="finding {escape(f.severity.value)}">'
            f'<p class="finding-head"><span class="severity">{escape(f.severity.value)}</span> '
            f"{_code(f.code)} {_e(f.message)}</p>"
            + "".join(f'<p class="where">{escape(k)}: {_code(v)}</p>' for k, v in where)
            + (f'<p class="fix"><strong>Fix:</strong> {_e(fix)}</p>' if fix else "")
            + about
            + "</article>"
        )
    return _section("findings", f"Findings ({len(findings)})", "".join(items))


def _parity_section(parity: ParityReport, localization: Localization | None) -> str:
    ident = f"parity-{parity.runtime}"
    title = f"Parity: {parity.runtime} against {parity.reference}"
    if not parity.available:
        body = f"<p>{_badge('error', 'not judged')} {_e(parity.unavailable_reason)}</p>"
        return _section(ident, title, body)
    if parity.load_error is not None:
        return _section(
            ident, title, f"<p>{_badge('fail', 'rejected the file')} {_e(parity.load_error)}</p>"
        )
    ran = [c for c in parity.cases if not c.skipped]
    passed = sum(c.passed for c in ran)
    sizes = sorted({", ".join(f"{k}={v}" for k, v in c.sizes.items()) or "static" for c in ran})
    draws = ", ".join(sorted({c.draw for c in ran}))
    summary = (
        f"<p>{_badge('pass' if parity.passed else 'fail', 'agrees' if parity.passed else 'differs')} "
        f"{passed}/{len(ran)} cases passed · sizes {_e('; '.join(sizes) or '–')} · draws "
        f"{_e(draws or '–')} · {parity.seconds:.1f} s</p>"
    )
    rows = []
    for out in parity.outputs:
        complete = out.cases_compared >= len(ran)
        state = "pass" if out.passed and complete else ("fail" if not out.passed else "error")
        rows.append(
            [
                _code(out.name),
                _e(out.dtype),
                f"{out.cases_compared}/{len(ran)}",
                _e(fmt(out.max_abs_diff)),
                _e(fmt(out.max_rel_diff)),
                f"{out.mismatch_fraction:.2%}",
                f"{out.atol:g} / {out.rtol:g}",
                _e(fmt(out.min_passing_atol, ".1e")),
                _badge(state, {"pass": "pass", "fail": "fail", "error": "incomplete"}[state]),
            ]
        )
    header = ["output", "dtype", "cases", "max abs", "max rel", "mismatch", "atol / rtol"]
    table = _table([*header, "min atol", ""], rows, numeric=(2, 3, 4, 5, 6, 7))
    figures = "".join(
        _figure(
            histogram_svg(out.histogram, atol=out.atol, label=f"{out.name}: |a − b| histogram"),
            f"{out.name}: elements by absolute difference; the red line is atol {out.atol:g}",
        )
        for out in parity.outputs
        if out.histogram is not None and out.histogram.total
    )
    failed = [c for c in parity.cases if not c.passed]
    cases = ""
    if failed:
        items = "".join(
            f"<li>case {c.index} ({_e(', '.join(f'{k}={v}' for k, v in c.sizes.items()) or 'static')}, "
            f"{_e(c.draw)}): {_e(c.error or 'outputs ' + ', '.join(c.failed_outputs) + ' outside tolerance')}</li>"
            for c in failed[:10]
        )
        more = f"<li>… and {len(failed) - 10} more</li>" if len(failed) > 10 else ""
        cases = f'<h3>Failed cases</h3><ul class="cases">{items}{more}</ul>'
    skipped = [c for c in parity.cases if c.skipped]
    if skipped:
        cases += f'<p class="muted">{len(skipped)} case(s) skipped: {_e(skipped[0].error)}</p>'
    return _section(ident, title, summary + table + figures + cases)


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def _data_section(data: DatasetReport) -> str:
    head = f"{data.samples:,} samples in {data.batches} batches from {_code(data.source)}"
    if data.failed_batches:
        head += f"; {data.failed_batches} batch(es) failed to run"
    rows = [
        [
            _code(out.name),
            _e(fmt(out.max_abs_diff)),
            _e(fmt(out.mean_abs_diff)),
            _e(fmt(out.p99_abs_diff)),
            _e(fmt(out.rel_l2_error)),
            _e(fmt(out.cosine_similarity, ".6f")),
            f"{out.mismatch_fraction:.2%}",
            _e(", ".join(str(w.index) for w in out.worst_samples[:3]) or "–"),
            _badge("pass" if out.passed else "fail"),
        ]
        for out in data.outputs
    ]
    header = ["output", "max abs", "mean abs", "p99 abs", "rel L2", "cosine", "mismatch"]
    table = _table([*header, "worst samples", ""], rows, numeric=(1, 2, 3, 4, 5, 6))
    figures = "".join(
        _figure(
            histogram_svg(
                out.histogram, atol=out.atol, label=f"{out.name} on the data: |a − b| histogram"
            ),
            f"{out.name} on the data: elements by absolute difference; the red line is atol {out.atol:g}",
        )
        for out in data.outputs
        if out.histogram is not None and out.histogram.total
    )
    agree = "".join(
        f"<p>{_code(out.name)}: PyTorch and ONNX predictions agree: "
        + _e(", ".join(f"{k} {v:.2%}" for k, v in out.topk_agreement.items()))
        + "</p>"
        for out in data.outputs
        if out.topk_agreement
    )
    errors = "".join(f'<p class="message">{_e(e)}</p>' for e in data.errors[:3])
    badge = _badge("pass" if data.passed else "fail", "agrees" if data.passed else "differs")
    return _section(
        "data", "Parity on your data", f"<p>{badge} {head}</p>{table}{agree}{errors}{figures}"
    )


def _localization_section(report: RunReport) -> str:
    loc = report.localization
    assert loc is not None
    if loc.unreproduced:
        text = f"Inconclusive on {_e(loc.case)}: {_e(loc.unreproduced)}."
    elif loc.first_divergent_module is None:
        matched = sum(1 for m in loc.trail if m.diverged is not None)
        text = f"No module diverges ({matched} compared on {_e(loc.case)})."
    else:
        nodes = ", ".join(loc.onnx_nodes[:6]) + (" …" if len(loc.onnx_nodes) > 6 else "")
        text = (
            f"First divergent module: {_code(loc.first_divergent_module)} ({_e(loc.module_type)}), "
            f"max abs diff {_e(fmt(loc.error, '.3g'))} on {_e(loc.case)}. ONNX nodes: {_code(nodes)}"
        )
    atol = report.verification.atol if report.verification is not None else 0.0
    chart = ""
    if loc.trail:
        chart = _figure(
            localization_svg(loc, atol=atol),
            "Each module's output against its ONNX counterpart, in execution order; "
            "▶ marks the first that diverges.",
        )
    unmatched = ""
    if loc.unmatched_modules:
        unmatched = (
            '<p class="muted">No ONNX counterpart (fused or folded): '
            + _e(", ".join(loc.unmatched_modules[:12]))
            + (" …" if len(loc.unmatched_modules) > 12 else "")
            + "</p>"
        )
    return _section(
        "localization", "Where the outputs part ways", f"<p>{text}</p>{chart}{unmatched}"
    )


def _footer(report: RunReport) -> str:
    version = report.environment.onnxproof if report.environment else ""
    timings = ", ".join(f"{k} {v:.1f} s" for k, v in report.timings.items())
    return (
        f'<footer><p class="muted">onnxproof {_e(version)} · report schema '
        f"{report.schema_version}" + (f" · {_e(timings)}" if timings else "") + "</p></footer>"
    )


def _shape(value: TensorInfo) -> str:
    if value.shape is None:
        return "?"
    return "[" + ", ".join("?" if d is None else str(d) for d in value.shape) + "]"
