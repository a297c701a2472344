"""JUnit XML: valid against the common schema, one testcase per check, failures counted right."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import xmlschema

from onnxproof.report.junit import render_junit, write_junit
from onnxproof.results import ParityReport, RunReport
from onnxproof.specs import Severity

SCHEMA = xmlschema.XMLSchema(Path(__file__).parent / "junit.xsd")
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def _suite(report: RunReport) -> ET.Element:
    text = render_junit(report, timestamp=WHEN)
    SCHEMA.validate(text)
    root = ET.fromstring(text)
    (suite,) = root.findall("testsuite")
    for key in ("tests", "failures", "errors", "skipped"):
        assert root.get(key) == suite.get(key)
    return suite


def _count(suite: ET.Element, tag: str) -> int:
    return sum(len(case.findall(tag)) for case in suite.findall("testcase"))


def test_failing_run_counts_each_failure(failing_run: RunReport) -> None:
    suite = _suite(failing_run)
    cases = suite.findall("testcase")
    assert suite.get("tests") == str(len(cases)) and suite.get("timestamp") == "2026-01-02T03:04:05"
    failing_outputs = sum(not o.passed for r in failing_run.runtimes for o in r.outputs)
    error_findings = sum(f.severity is Severity.ERROR for f in failing_run.findings)
    assert failing_outputs == 1 and error_findings >= 1
    assert int(suite.get("failures", "")) == _count(suite, "failure")
    assert _count(suite, "failure") == failing_outputs + error_findings
    assert suite.get("errors") == "0"
    names = [(c.get("classname"), c.get("name")) for c in cases]
    assert names[:4] == [
        ("onnxproof.export", "export"),
        ("onnxproof.check", "onnx.checker"),
        ("onnxproof.check", "shape inference"),
        ("onnxproof.parity.ort-cpu", "output output"),
    ]
    failure = cases[3].find("failure")
    assert failure is not None
    assert "max abs diff" in failure.get("message", "") and "fix:" in (failure.text or "")
    assert "blocks.3" in (failure.text or "")  # the first divergent module, where to look


def test_passing_run_has_no_failure(passing_run: RunReport) -> None:
    suite = _suite(passing_run)
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    assert int(suite.get("tests", "")) == 4  # export, checker, shape inference, one output
    assert "train-mode" in (suite.findtext("system-out") or "")  # a warning, not a testcase


def test_unavailable_runtime_is_an_error_not_a_failure(
    passing_run: RunReport, tmp_path: Path
) -> None:
    missing = ParityReport(
        runtime="openvino",
        reference="torch",
        passed=False,
        atol=1e-4,
        rtol=1e-3,
        cases=(),
        outputs=(),
        available=False,
        unavailable_reason="openvino is not installed\x07; pip install openvino",
    )
    report = dataclasses.replace(
        passing_run, status="error", runtimes=(*passing_run.runtimes, missing)
    )
    suite = _suite(report)
    assert suite.get("errors") == "1" and suite.get("failures") == "0"
    (error,) = [e for c in suite.findall("testcase") for e in c.findall("error")]
    assert error.get("message") == "openvino is not installed; pip install openvino"
    write_junit(report, tmp_path / "junit.xml")
    SCHEMA.validate(str(tmp_path / "junit.xml"))
