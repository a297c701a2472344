"""A zoo sweep rendered: the terminal table (model × verdict × findings × time) and JUnit XML.

The JUnit file holds one ``<testsuite>`` per model: the suite its own run wrote (so a sweep shows
in CI exactly as each run would), or, for a model whose process crashed or timed out and so
wrote none, a suite of one errored ``run`` case that says how it ended.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from onnxproof.report._text import paint, table
from onnxproof.report._write import write_text
from onnxproof.report.junit import _clean

if TYPE_CHECKING:
    from onnxproof.results import ModelSweepResult, SweepReport

_STYLE = {"pass": "green", "fail": "red"}
_COUNTS = ("tests", "failures", "errors", "skipped")
_MAX_CODES = 4


def render_sweep(report: SweepReport) -> list[str]:
    """The summary table and one line of totals."""
    rows = []
    for row in report.models:
        codes = list(row.finding_codes[:_MAX_CODES]) + (
            ["…"] if len(row.finding_codes) > _MAX_CODES else []
        )
        findings = f"{row.finding_count} ({', '.join(codes)})" if codes else str(row.finding_count)
        shown = paint(row.shown_verdict, _STYLE.get(row.verdict, "yellow"))
        seconds = "-" if row.cached else f"{row.seconds:.1f}"
        rows.append([row.name, shown, findings, seconds])
    parts = [paint(f"onnxproof sweep · {report.zoo}", "bold")]
    parts += table(rows, header=["model", "verdict", "findings", "time s"], right=[3])
    for row in report.models:
        if row.verdict not in ("pass", "crashed", "timed-out") and row.detail:
            parts.append(paint(f"  {row.name}: {row.detail}", "yellow"))
        elif row.verdict in ("crashed", "timed-out") and row.log_path:
            parts.append(paint(f"  {row.name}: its output is in {row.log_path}", "dim"))
    counts = ", ".join(f"{n} {verdict}" for verdict, n in report.counts.items())
    cached = sum(r.cached for r in report.models)
    verdict = paint(report.status.upper(), "bold green" if report.status == "pass" else "bold red")
    parts.append(
        f"{verdict} · {len(report.models)} models: {counts}"
        + (f" ({cached} cached)" if cached else "")
        + f" · {report.seconds:.1f}s with {report.jobs} jobs ({report.engine}) · {report.outdir}"
    )
    return parts


def render_sweep_junit(report: SweepReport, *, timestamp: datetime | None = None) -> str:
    """The sweep as one JUnit document, one ``<testsuite>`` per model."""
    when = (timestamp or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S")
    root = ET.Element("testsuites", {"name": "onnxproof sweep"})
    for index, row in enumerate(report.models):
        suite = _own_suite(row) or _outcome_suite(row, when)
        suite.set("id", str(index))
        suite.set("name", f"onnxproof: {row.name}")
        properties = suite.find("properties")
        if properties is None:
            properties = ET.Element("properties")
            suite.insert(0, properties)
        for name, value in (("sweep.model", row.name), ("sweep.cached", str(row.cached).lower())):
            ET.SubElement(properties, "property", {"name": name, "value": _clean(value)})
        root.append(suite)
    for count in _COUNTS:
        root.set(count, str(sum(int(s.get(count, "0")) for s in root)))
    root.set("time", f"{sum(float(s.get('time', '0')) for s in root):.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_sweep_junit(report: SweepReport, path: str | Path) -> None:
    """``render_sweep_junit(report)`` written atomically to ``path``."""
    write_text(render_sweep_junit(report), path)


def _own_suite(row: ModelSweepResult) -> ET.Element | None:
    """The suite the model's run wrote, when it wrote one that can be read."""
    if row.junit_path is None or row.verdict in ("crashed", "timed-out"):
        return None
    try:
        suites = ET.parse(row.junit_path).getroot()
    except (OSError, ET.ParseError):
        return None
    return suites.find("testsuite")


def _outcome_suite(row: ModelSweepResult, when: str) -> ET.Element:
    """One ``run`` case for a model whose process wrote no JUnit: how it ended, and why."""
    failed = row.verdict != "pass"
    suite = ET.Element(
        "testsuite",
        {
            "tests": "1",
            "failures": "0",
            "errors": "1" if failed else "0",
            "skipped": "0",
            "time": f"{row.seconds:.3f}",
            "timestamp": when,
            "hostname": _clean(socket.gethostname()) or "localhost",
            "package": "onnxproof",
        },
    )
    ET.SubElement(suite, "properties")
    case = ET.SubElement(
        suite,
        "testcase",
        {"classname": "onnxproof.sweep", "name": "run", "time": f"{row.seconds:.3f}"},
    )
    if failed:
        message = _clean(row.detail or row.verdict)
        error = ET.SubElement(case, "error", {"message": message, "type": row.verdict})
        error.text = message + (f"\nthe run's output: {row.log_path}" if row.log_path else "")
    ET.SubElement(suite, "system-out").text = _clean(f"{row.name}: {row.shown_verdict}")
    ET.SubElement(suite, "system-err").text = ""
    return suite
