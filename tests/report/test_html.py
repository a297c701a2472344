"""The HTML report: self-contained, verdict first, charts of the errors, safe with odd names."""

from __future__ import annotations

import dataclasses
import re

from onnxproof.linting.codes import CODES
from onnxproof.report.html import render_html, write_html
from onnxproof.results import RunReport


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_nothing_is_loaded_from_elsewhere(failing_run: RunReport) -> None:
    html = render_html(failing_run)
    # the only URL is the SVG namespace, which is a name, never fetched
    urls = set(re.findall(r"(?:https?:)?//[\w.-]+[^\s\"')]*", html))
    assert urls == {"http://www.w3.org/2000/svg"}
    assert "<script" not in html and "<img" not in html and "@import" not in html
    assert "url(" not in html and "@font-face" not in html
    assert "default-src 'none'" in html  # and the browser is told to refuse any fetch


def test_verdict_comes_first_with_the_exit_code(
    failing_run: RunReport, passing_run: RunReport
) -> None:
    failing = _text(render_html(failing_run).split("<body>")[1])
    assert failing.split()[:5] == ["FAIL", "—", "exit", "code", "1:"]
    assert "parity: ort-cpu disagrees with torch" in failing
    passing = _text(render_html(passing_run).split("<body>")[1])
    assert passing.split()[:5] == ["PASS", "—", "exit", "code", "0:"]


def test_failing_run_shows_findings_tables_and_charts(failing_run: RunReport) -> None:
    html = render_html(failing_run)
    assert failing_run.verification is not None
    (output,) = failing_run.verification.outputs
    # findings with their code, the catalogue's explanation and the fix
    assert "output-mismatch" in html and CODES["output-mismatch"].summary in html
    assert "Fix:" in html
    # the parity table holds the figures the terminal shows
    assert f"{output.max_abs_diff:.2e}" in html and "Export attempts" in html
    # one histogram per output, with bars past atol and the atol line
    assert html.count('<svg class="chart histogram"') == 1
    assert 'class="bar over"' in html and 'class="tolerance"' in html
    # the localization trail: one bar per compared module, the first divergent marked
    trail = html.split('<svg class="chart trail"')[1].split("</svg>")[0]
    compared = [m for m in failing_run.localization.trail if m.diverged is not None]  # type: ignore[union-attr]
    assert trail.count("<rect ") == len(compared)
    assert trail.count('class="bar first"') == 1 and "▶ blocks.3" in trail


def test_passing_run_has_no_red(passing_run: RunReport) -> None:
    html = render_html(passing_run)
    assert 'class="bar over"' not in html and 'class="bar first"' not in html
    assert '<svg class="chart trail"' not in html  # nothing to localize


def test_names_are_escaped(failing_run: RunReport, tmp_path) -> None:
    odd = dataclasses.replace(failing_run, model='<script>alert("x")</script>')
    html = render_html(odd)
    assert "<script>" not in html and "&lt;script&gt;" in html
    write_html(odd, tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == html
