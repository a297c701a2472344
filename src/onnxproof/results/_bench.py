"""Records of a benchmark: latency per runtime and batch size, beside each runtime's verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from onnxproof.results._base import SCHEMA_VERSION, _Record
from onnxproof.results._run import Environment, RunReport


@dataclass(frozen=True, kw_only=True)
class LatencyRow(_Record):
    """One runtime at one batch size: latency percentiles over timed iterations."""

    runtime: str
    batch: int
    iterations: int
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    throughput: float | None  # samples per second at the median latency
    #: Time to load the model in this runtime (session creation, compilation).
    load_seconds: float | None = None
    #: Resident memory the runtime added while loading and running, when measurable in-process.
    memory_mb: float | None = None
    error: str | None = None
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class BenchReport(_Record):
    """Latency of every runtime, and whether each computes what the model computes."""

    model: str
    onnx_path: str
    batch_dim: str | None
    rows: tuple[LatencyRow, ...]
    #: The run that verified every runtime against PyTorch first (a fast wrong runtime must
    #: never look good); None when only an ONNX file was given.
    verification: RunReport | None
    settings: dict[str, Any]
    environment: Environment | None = None
    schema_version: int = SCHEMA_VERSION

    def verdict_of(self, runtime: str) -> str:
        """``pass``, ``fail``, ``not run`` or ``not verified`` (no PyTorch model to compare)."""
        if runtime == "torch":
            return "reference"
        if runtime == "torch-compile":  # judged against eager PyTorch on the timed inputs
            said = {r.details.get("agrees with eager") for r in self.rows if r.runtime == runtime}
            return "fail" if "no" in said else "pass" if "yes" in said else "not verified"
        verdicts = self.verification.runtimes if self.verification is not None else ()
        report = next((r for r in verdicts if r.runtime == runtime), None)
        if report is None:
            return "not verified"
        if not report.available:
            return "not run"
        return "pass" if report.passed else "fail"
