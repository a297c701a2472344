"""Renderers over result records only: terminal text and JSON. No runtime, no torch."""

from onnxproof.report.json_report import write_json
from onnxproof.report.terminal import render_check, render_export, render_run

__all__ = ["render_check", "render_export", "render_run", "write_json"]
