"""Result records of every pipeline step: frozen dataclasses that render to plain dicts.

Reports read only these. Nothing here imports torch, onnx or a runtime. The records of a run
load on first use, so ``onnxproof check`` pays only for the records it returns.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from onnxproof.results._base import (
    SCHEMA_VERSION,
    Status,
    StepState,
    status_from,
    to_jsonable,
)
from onnxproof.results._check import CheckReport, Finding, ModelInfo, TensorInfo

if TYPE_CHECKING:
    from onnxproof.results._bench import BenchReport, LatencyRow
    from onnxproof.results._generation import GenerationReport, GenerationStep
    from onnxproof.results._optimize import (
        DriftReport,
        GateCheck,
        NodeDrift,
        OptimizeReport,
        VariantResult,
        VariantRound,
    )
    from onnxproof.results._run import (
        CaseResult,
        DatasetReport,
        DimRange,
        Environment,
        ErrorHistogram,
        ExportAttempt,
        ExportResult,
        ExportWarning,
        Localization,
        ModuleError,
        OutputDatasetMetrics,
        OutputParity,
        PaddedMismatch,
        ParityReport,
        RunReport,
        Step,
        WorstSample,
    )
    from onnxproof.results._sweep import ModelSweepResult, SweepReport, SweepVerdict

_RUN_RECORDS = {
    "CaseResult",
    "DatasetReport",
    "DimRange",
    "Environment",
    "ErrorHistogram",
    "ExportAttempt",
    "ExportResult",
    "ExportWarning",
    "Localization",
    "ModuleError",
    "OutputDatasetMetrics",
    "OutputParity",
    "PaddedMismatch",
    "ParityReport",
    "RunReport",
    "Step",
    "WorstSample",
}


_BENCH_RECORDS = {"BenchReport", "LatencyRow"}
_SWEEP_RECORDS = {"ModelSweepResult", "SweepReport", "SweepVerdict"}
_GENERATION_RECORDS = {"GenerationReport", "GenerationStep"}
_OPTIMIZE_RECORDS = {
    "DriftReport",
    "GateCheck",
    "NodeDrift",
    "OptimizeReport",
    "VariantResult",
    "VariantRound",
}


def __getattr__(name: str) -> Any:
    if name in _RUN_RECORDS:
        return getattr(importlib.import_module("onnxproof.results._run"), name)
    if name in _BENCH_RECORDS:
        return getattr(importlib.import_module("onnxproof.results._bench"), name)
    if name in _SWEEP_RECORDS:
        return getattr(importlib.import_module("onnxproof.results._sweep"), name)
    if name in _GENERATION_RECORDS:
        return getattr(importlib.import_module("onnxproof.results._generation"), name)
    if name in _OPTIMIZE_RECORDS:
        return getattr(importlib.import_module("onnxproof.results._optimize"), name)
    raise AttributeError(f"module 'onnxproof.results' has no attribute {name!r}")


__all__ = [
    "SCHEMA_VERSION",
    "BenchReport",
    "LatencyRow",
    "CaseResult",
    "CheckReport",
    "DatasetReport",
    "DimRange",
    "DriftReport",
    "Environment",
    "ErrorHistogram",
    "ExportAttempt",
    "ExportResult",
    "ExportWarning",
    "Finding",
    "GenerationReport",
    "GenerationStep",
    "GateCheck",
    "Localization",
    "ModelInfo",
    "ModelSweepResult",
    "ModuleError",
    "NodeDrift",
    "OptimizeReport",
    "OutputDatasetMetrics",
    "OutputParity",
    "PaddedMismatch",
    "ParityReport",
    "RunReport",
    "Status",
    "Step",
    "StepState",
    "SweepReport",
    "SweepVerdict",
    "TensorInfo",
    "VariantResult",
    "VariantRound",
    "WorstSample",
    "status_from",
    "to_jsonable",
]
