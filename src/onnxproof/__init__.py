"""onnxproof: export a PyTorch model to ONNX and prove the file computes what the model computes.

``import onnxproof`` is light: torch loads only when a function that needs it runs.
"""

from __future__ import annotations

__version__ = "0.1.0"

from onnxproof.errors import (
    CheckError,
    DataError,
    ExportError,
    InputSpecError,
    InternalError,
    ModelLoadError,
    OnnxproofError,
    RuntimeUnavailable,
)
from onnxproof.pipeline import check, export, lint, run, verify
from onnxproof.results import CheckReport, ExportResult, Finding, ParityReport, RunReport
from onnxproof.specs import Severity, TensorSpec, parse_input_spec

__all__ = [
    "CheckError",
    "CheckReport",
    "DataError",
    "ExportError",
    "ExportResult",
    "Finding",
    "InputSpecError",
    "InternalError",
    "ModelLoadError",
    "OnnxproofError",
    "ParityReport",
    "RunReport",
    "RuntimeUnavailable",
    "Severity",
    "TensorSpec",
    "__version__",
    "check",
    "export",
    "lint",
    "parse_input_spec",
    "run",
    "verify",
]
