"""The Markdown summary: verdict, one small table, findings; table cells stay one cell."""

from __future__ import annotations

import dataclasses

from onnxproof.report.markdown import render_markdown
from onnxproof.results import Finding, RunReport
from onnxproof.specs import Severity


def test_failing_summary(failing_run: RunReport) -> None:
    text = render_markdown(failing_run)
    first = text.splitlines()[0]
    assert first.startswith("### ❌ onnxproof: FAIL — exit code 1")
    assert "| parity · ort-cpu | ❌ |" in text and "| export | ✅ |" in text
    assert "first divergent module `blocks.3`" in text
    assert "`output-mismatch`" in text
    assert len(text.splitlines()) < 40  # a summary, not the report


def test_passing_summary(passing_run: RunReport) -> None:
    text = render_markdown(passing_run)
    assert text.startswith("### ✅ onnxproof: PASS — exit code 0")
    assert "❌" not in text


def test_table_cells_hold_pipes_and_newlines(passing_run: RunReport) -> None:
    odd = Finding(code="custom", severity=Severity.ERROR, message="a | b\nc <x>")
    report = dataclasses.replace(passing_run, status="fail", findings=(odd,))
    text = render_markdown(report)
    assert "a \\| b c &lt;x&gt;" in text


def test_append_keeps_what_the_step_summary_held(passing_run: RunReport, tmp_path) -> None:
    from onnxproof.report.markdown import write_markdown

    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    write_markdown(passing_run, summary, append=True)
    assert summary.read_text() == "earlier step\n" + render_markdown(passing_run)
    write_markdown(passing_run, summary)
    assert summary.read_text() == render_markdown(passing_run)
