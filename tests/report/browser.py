"""Headless Chromium for the report tests: Debian's browser driven by npm playwright-core.

playwright-core is installed once into a cache folder (never a browser download: it drives the
system Chromium). Whatever is missing is returned as a reason to skip, not raised.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("ONNXPROOF_CHROMIUM", "/usr/lib/chromium/chromium"))
PLAYWRIGHT = "playwright-core@1.65.1"
CACHE = Path(
    os.environ.get("ONNXPROOF_TEST_CACHE", Path.home() / ".cache" / "onnxproof-tests")
) / PLAYWRIGHT.replace("@", "-")
SCRIPT = Path(__file__).with_name("browser_check.cjs")


def browser_missing() -> str | None:
    """Why the browser checks cannot run here, or None when they can."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are not installed"
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install -y --no-install-recommends chromium)"
    if not (CACHE / "node_modules" / "playwright-core").is_dir():
        CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(CACHE), PLAYWRIGHT],
            capture_output=True,
            text=True,
            env={**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"},
            timeout=300,
        )
        if done.returncode != 0:
            return f"could not install {PLAYWRIGHT}: {done.stderr[-300:]}"
    return None


def inspect(pages: dict[str, Path], out_dir: Path) -> dict[str, dict[str, Any]]:
    """Open each page at 1280 and 390 px; what each showed, by name then width."""
    out_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            "node",
            str(SCRIPT),
            str(CHROMIUM),
            str(out_dir),
            *(f"{name}={path}" for name, path in pages.items()),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NODE_PATH": str(CACHE / "node_modules")},
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the browser check failed: {done.stderr[-2000:]}")
    result: dict[str, dict[str, Any]] = json.loads(done.stdout)
    return result
