"""Make docs/report-screenshot.png: the HTML report of a planted divergence, in headless Chromium
at 1280 px (Debian chromium + npm playwright-core, as in tests/report/test_html_browser.py).

.venv/bin/python scripts/report_screenshot.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import models  # noqa: E402
from tests.report.browser import browser_missing, inspect  # noqa: E402

import onnxproof  # noqa: E402
from onnxproof.report.html import write_html  # noqa: E402


def main() -> int:
    reason = browser_missing()
    if reason is not None:
        print(f"cannot take the screenshot: {reason}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        report = onnxproof.run(
            models.Blocks(bad=3),
            inputs=["x:float32[batch,4]"],
            output=folder / "blocks.onnx",
        )
        write_html(report, folder / "report.html")
        seen = inspect({"report": folder / "report.html"}, folder / "shots")
        target = ROOT / "docs" / "report-screenshot.png"
        shutil.copyfile(seen["report"]["1280"]["screenshot"], target)
    print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
