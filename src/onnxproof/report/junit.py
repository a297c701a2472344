"""JUnit XML, as CI systems show test results natively (GitHub, GitLab, Jenkins, Azure).

One ``<testsuite>`` per run inside ``<testsuites>``; one ``<testcase>`` per check (export, the
checker, shape inference, each output on each runtime, each output on the data, each error
finding). A check that failed is a ``<failure>`` whose message says what differed and whose text
adds the fix; a check onnxproof could not judge is an ``<error>``; one not run is ``<skipped>``.
Warnings and infos go to the suite's ``<system-out>``. The layout follows the common JUnit schema
(the one Ant and Jenkins read); ``tests/report/junit.xsd`` holds it for the tests.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from onnxproof.report._checks import Check, checks, verdict_line
from onnxproof.report._write import write_text
from onnxproof.specs import Severity

if TYPE_CHECKING:
    from onnxproof.results import RunReport

_TAG = {"fail": "failure", "error": "error", "skipped": "skipped"}


def render_junit(report: RunReport, *, timestamp: datetime | None = None) -> str:
    """The run as a JUnit XML document (UTF-8 text with the XML declaration)."""
    found = checks(report)
    counts = {
        "tests": str(len(found)),
        "failures": str(sum(c.state == "fail" for c in found)),
        "errors": str(sum(c.state == "error" for c in found)),
        "skipped": str(sum(c.state == "skipped" for c in found)),
    }
    seconds = f"{sum(report.timings.values()):.3f}"
    root = ET.Element("testsuites", {"name": "onnxproof", **counts, "time": seconds})
    when = (timestamp or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S")
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": f"onnxproof: {report.model}",
            **counts,
            "time": seconds,
            "timestamp": when,
            "hostname": _clean(socket.gethostname()) or "localhost",
            "id": "0",
            "package": "onnxproof",
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in _properties(report):
        ET.SubElement(properties, "property", {"name": name, "value": _clean(value)})
    for check in found:
        _testcase(suite, check)
    out = [verdict_line(report)]
    out += [
        f"{f.severity.value} {f.code}: {f.message}" + (f" (fix: {f.hint})" if f.hint else "")
        for f in report.findings
        if f.severity is not Severity.ERROR
    ]
    ET.SubElement(suite, "system-out").text = _clean("\n".join(out))
    ET.SubElement(suite, "system-err").text = ""
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(report: RunReport, path: str | Path) -> None:
    """``render_junit(report)`` written atomically to ``path``."""
    write_text(render_junit(report), path)


def _testcase(suite: ET.Element, check: Check) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        {
            "classname": f"onnxproof.{check.group}",
            "name": _clean(check.name),
            "time": f"{check.seconds:.3f}",
        },
    )
    tag = _TAG.get(check.state)
    if tag is None:
        return
    message = _clean(check.message) or check.state
    if tag == "skipped":
        ET.SubElement(case, "skipped", {"message": message})
        return
    kind = (check.kind or check.group) if check.state == "fail" else "not-judged"
    element = ET.SubElement(case, tag, {"message": message, "type": kind})
    element.text = _clean(message + (f"\nfix: {check.fix}" if check.fix else ""))


def _properties(report: RunReport) -> list[tuple[str, str]]:
    props = [("status", report.status), ("model", report.model)]
    if report.onnx_path:
        props.append(("onnx_path", report.onnx_path))
    if report.environment is not None:
        env = report.environment
        props += [("onnxproof", env.onnxproof), ("python", env.python), ("platform", env.platform)]
        props += [(name, version) for name, version in env.packages.items() if version]
    if report.localization is not None and report.localization.first_divergent_module:
        props.append(("first_divergent_module", report.localization.first_divergent_module))
    return props


def _clean(text: str) -> str:
    """Text XML 1.0 can hold: control characters (from a runtime's message) dropped."""
    return "".join(
        c
        for c in text
        if c in "\t\n\r" or (" " <= c < "\ud800") or ("\ue000" <= c <= "\ufffd") or c > "\uffff"
    )
