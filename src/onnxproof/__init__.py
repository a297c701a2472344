"""onnxproof: export a PyTorch model to ONNX and prove the file computes what the model computes.

``import onnxproof`` is light: torch loads only when a function that needs it runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from onnxproof._version import __version__ as __version__
from onnxproof.errors import (
    CheckError,
    DataError,
    ExportError,
    InputSpecError,
    InternalError,
    ModelCodeError,
    ModelLoadError,
    OnnxproofError,
    RuntimeUnavailable,
    UsageError,
)

if TYPE_CHECKING:
    from onnxproof.optimizing import OptimizeOptions
    from onnxproof.options import BenchOptions, DataOptions, ExportOptions, VerifyOptions
    from onnxproof.pipeline import bench, check, export, lint, optimize, run, verify
    from onnxproof.results import (
        BenchReport,
        CheckReport,
        ExportResult,
        Finding,
        OptimizeReport,
        ParityReport,
        RunReport,
    )
    from onnxproof.specs import Severity, TensorSpec, parse_input_spec

# Loaded on first use: `onnxproof check` and `--help` should not pay for what they do not run.
_LAZY = {
    "bench": "onnxproof.pipeline",
    "BenchOptions": "onnxproof.options",
    "BenchReport": "onnxproof.results",
    "check": "onnxproof.pipeline",
    "export": "onnxproof.pipeline",
    "lint": "onnxproof.pipeline",
    "optimize": "onnxproof.pipeline",
    "OptimizeOptions": "onnxproof.optimizing",
    "OptimizeReport": "onnxproof.results",
    "run": "onnxproof.pipeline",
    "verify": "onnxproof.pipeline",
    "CheckReport": "onnxproof.results",
    "ExportResult": "onnxproof.results",
    "Finding": "onnxproof.results",
    "ParityReport": "onnxproof.results",
    "RunReport": "onnxproof.results",
    "Severity": "onnxproof.specs",
    "TensorSpec": "onnxproof.specs",
    "parse_input_spec": "onnxproof.specs",
    "DataOptions": "onnxproof.options",
    "ExportOptions": "onnxproof.options",
    "VerifyOptions": "onnxproof.options",
    "sweep": "onnxproof.sweeping",
    "SweepReport": "onnxproof.results",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'onnxproof' has no attribute {name!r}")


__all__ = [
    "SweepReport",
    "sweep",
    "BenchOptions",
    "BenchReport",
    "CheckError",
    "CheckReport",
    "DataError",
    "DataOptions",
    "ExportError",
    "ExportOptions",
    "ExportResult",
    "Finding",
    "InputSpecError",
    "InternalError",
    "ModelCodeError",
    "ModelLoadError",
    "OnnxproofError",
    "OptimizeOptions",
    "OptimizeReport",
    "ParityReport",
    "RunReport",
    "RuntimeUnavailable",
    "Severity",
    "TensorSpec",
    "UsageError",
    "VerifyOptions",
    "__version__",
    "bench",
    "check",
    "export",
    "lint",
    "optimize",
    "parse_input_spec",
    "run",
    "verify",
]
