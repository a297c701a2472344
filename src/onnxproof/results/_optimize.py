"""Records of ``optimize``: each variant's size, latency, gate and verdict, and why one failed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from onnxproof.results._base import SCHEMA_VERSION, Status, _Record
from onnxproof.results._run import DatasetReport, Environment

#: A variant passed its gate (and was written), failed it, or could not be built or run.
VariantVerdict = Literal["pass", "fail", "error"]


@dataclass(frozen=True, kw_only=True)
class GateCheck(_Record):
    """One metric of the gate on one output: ``value`` against ``threshold``."""

    metric: str  # top1 (>=), cosine (>=), rel_l2 (<=), finite (no overflow to inf/NaN)
    output: str
    value: float
    threshold: float
    passed: bool


@dataclass(frozen=True, kw_only=True)
class NodeDrift(_Record):
    """How far one node's output in the variant is from the same value in the float model."""

    node: str
    op_type: str
    tensor: str
    #: Signal-to-quantization-noise ratio in dB (-inf: the variant's value overflowed).
    sqnr_db: float
    #: The PyTorch module the node came from (the exporter's scope), when recorded.
    module: str | None = None


@dataclass(frozen=True, kw_only=True)
class DriftReport(_Record):
    """Per-node drift between the float model and a variant, on the same evaluation samples."""

    threshold_db: float
    samples: int
    #: Values compared (present in both graphs, float, same shape).
    compared: int
    #: The first node, in topological order, whose output drifted below ``threshold_db``.
    first: NodeDrift | None
    #: The nodes kept out of the lower precision in the next round, and why.
    blamed: tuple[str, ...] = ()
    blame_reason: str = ""
    worst: tuple[NodeDrift, ...] = ()
    #: Values finite in the float model and inf/NaN in the variant (fp16 overflow).
    overflowed: tuple[NodeDrift, ...] = ()


@dataclass(frozen=True, kw_only=True)
class VariantRound(_Record):
    """One build of a variant: round 0 as asked, later rounds with more nodes excluded."""

    round: int
    excluded: tuple[str, ...]
    verdict: VariantVerdict
    size_bytes: int | None = None
    p50_ms: float | None = None
    gate: tuple[GateCheck, ...] = ()
    dataset: DatasetReport | None = None
    drift: DriftReport | None = None
    error: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class VariantResult(_Record):
    """A variant's final round, the rounds that led there, and where it was written."""

    name: str
    method: str
    #: The tolerance preset it was judged by (lossless, fp16, int8).
    preset: str
    verdict: VariantVerdict
    size_bytes: int | None
    size_ratio: float | None  # variant / fp32
    p50_ms: float | None
    speedup: float | None  # fp32 p50 / variant p50
    gate: tuple[GateCheck, ...]
    excluded: tuple[str, ...]
    rounds: tuple[VariantRound, ...]
    #: Where the variant was written (only when it passed).
    written: str | None = None
    error: str | None = None
    #: A file at the variant's path that onnxproof did not write (no variant mark), left as it
    #: is although the variant failed; None otherwise.
    kept: str | None = None


@dataclass(frozen=True, kw_only=True)
class OptimizeReport(_Record):
    """Every variant of one float model beside the float model itself."""

    model: str | None
    onnx_path: str
    #: What every variant was compared with: eager PyTorch, or the float file on ort-cpu.
    reference: str
    task: str | None
    #: Where the calibration and evaluation samples came from, and how they were split.
    data: str
    calibration_samples: int
    evaluation_samples: int
    size_bytes: int
    p50_ms: float | None
    variants: tuple[VariantResult, ...]
    #: The best passing variant (smallest file, then fastest), None when none passed.
    best: str | None
    output_dir: str | None
    status: Status
    #: The float file against eager PyTorch on the same samples (None: no model given).
    baseline: DatasetReport | None = None
    environment: Environment | None = None
    schema_version: int = SCHEMA_VERSION

    @property
    def passed(self) -> bool:
        return self.status == "pass"
