"""The HTML report in a real browser (headless Chromium): no request leaves the page, the verdict
and the charts are there, and nothing is wider than a desktop or a phone screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from onnxproof.report.html import write_html
from onnxproof.results import RunReport
from tests.report.browser import browser_missing, inspect

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def seen(
    failing_run: RunReport, passing_run: RunReport, tmp_path_factory: pytest.TempPathFactory
) -> dict:
    reason = browser_missing()
    if reason is not None:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("html")
    write_html(failing_run, folder / "fail.html")
    write_html(passing_run, folder / "pass.html")
    return inspect({"fail": folder / "fail.html", "pass": folder / "pass.html"}, folder / "shots")


@pytest.mark.parametrize("width", ["1280", "390"])
def test_failing_report_in_the_browser(seen: dict, width: str) -> None:
    page = seen["fail"][width]
    assert page["requests"] == []
    assert page["verdict"].startswith("FAIL — exit code 1")
    assert page["histograms"] == 1 and page["histogramBars"] > 0
    assert page["trails"] == 1 and page["trailBars"] > 5 and page["firstDivergentBars"] == 1
    assert page["toleranceLines"] == 2
    assert page["wide"] == [] and page["scrollWidth"] <= page["viewport"] == int(width)
    shot = Path(page["screenshot"]).read_bytes()
    assert shot.startswith(PNG) and len(shot) > 20_000


@pytest.mark.parametrize("width", ["1280", "390"])
def test_passing_report_in_the_browser(seen: dict, width: str) -> None:
    page = seen["pass"][width]
    assert page["requests"] == []
    assert page["verdict"].startswith("PASS — exit code 0")
    assert page["histograms"] == 1 and page["trails"] == 0
    assert page["wide"] == [] and page["scrollWidth"] <= page["viewport"] == int(width)
    assert Path(page["screenshot"]).read_bytes().startswith(PNG)


def test_report_prints(seen: dict) -> None:
    for name in ("fail", "pass"):
        pdf = Path(seen[name]["1280"]["pdf"]).read_bytes()
        assert pdf.startswith(b"%PDF") and len(pdf) > 5_000
