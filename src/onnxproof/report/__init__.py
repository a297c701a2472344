"""Renderers over result records only: terminal text and JSON. No runtime, no torch.

The JSON writer is loaded on first use: ``onnxproof check`` without ``--json`` never needs it.
"""

from __future__ import annotations

from typing import Any

from onnxproof.report.terminal import render_check, render_export, render_run

__all__ = ["render_check", "render_export", "render_run", "write_json"]


def __getattr__(name: str) -> Any:
    if name == "write_json":
        from onnxproof.report.json_report import write_json

        return write_json
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
