"""Result records of every pipeline step: frozen dataclasses that render to plain dicts.

Reports read only these. Nothing here imports torch, onnx or a runtime.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from onnxproof.specs import Severity

if TYPE_CHECKING:
    from onnxproof.verification.stats import OutputDatasetMetrics

#: Version of the JSON report layout; bump on any incompatible change (docs/report-schema.md).
SCHEMA_VERSION = 2

Status = Literal["pass", "fail", "error"]


def to_jsonable(value: Any) -> Any:
    """Plain JSON data from dataclasses, enums, tuples and non-finite floats (as strings)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


class _Record:
    def to_dict(self) -> dict[str, Any]:
        data = to_jsonable(self)
        assert isinstance(data, dict)
        return data


@dataclass(frozen=True, kw_only=True)
class Finding(_Record):
    """A named problem with a stable code, how bad it is and how to fix it."""

    code: str
    severity: Severity
    message: str
    hint: str = ""
    node: str | None = None
    module: str | None = None
    location: str | None = None
    target: str | None = None


@dataclass(frozen=True, kw_only=True)
class TensorInfo(_Record):
    """An ONNX graph input or output. Dims are ints (static), names (dynamic) or None (unknown)."""

    name: str
    dtype: str
    shape: tuple[int | str | None, ...] | None

    def __str__(self) -> str:
        if self.shape is None:
            return f"{self.name}: {self.dtype}[?]"
        dims = ", ".join("?" if d is None else str(d) for d in self.shape)
        return f"{self.name}: {self.dtype}[{dims}]"


@dataclass(frozen=True, kw_only=True)
class ModelInfo(_Record):
    """What a person wants to know about an ONNX file."""

    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    opset_imports: dict[str, int]
    ir_version: int
    producer: str
    node_count: int
    op_counts: dict[str, int]
    parameter_count: int
    file_size: int
    external_data_files: tuple[str, ...]
    metadata: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class CheckReport(_Record):
    """onnx.checker and shape inference over one file, plus its model info."""

    path: str
    checker_passed: bool
    checker_error: str | None
    shape_inference_passed: bool | None
    shape_inference_error: str | None
    info: ModelInfo | None
    targets: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()

    @property
    def passed(self) -> bool:
        """The file is valid ONNX (findings are judged apart, with --fail-on)."""
        return self.checker_passed and self.shape_inference_passed is not False


@dataclass(frozen=True, kw_only=True)
class ExportAttempt(_Record):
    """One exporter strategy tried: whether it worked, how long it took, why it failed."""

    strategy: str
    ok: bool
    seconds: float
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class ExportResult(_Record):
    """The written ONNX file and the record of how it was made."""

    onnx_path: str
    exporter: str
    attempts: tuple[ExportAttempt, ...]
    opset_requested: int
    opset_written: int
    external_data_file: str | None
    input_specs: tuple[str, ...]
    output_names: tuple[str, ...]
    training_modules: tuple[str, ...]
    findings: tuple[Finding, ...]
    log: tuple[str, ...]
    seconds: float


@dataclass(frozen=True, kw_only=True)
class OutputParity(_Record):
    """Agreement of one output over all cases: worst figures and the verdict."""

    name: str
    dtype: str
    atol: float
    rtol: float
    max_abs_diff: float
    max_rel_diff: float
    mismatch_fraction: float
    min_passing_atol: float
    compared_elements: int
    passed: bool


@dataclass(frozen=True, kw_only=True)
class CaseResult(_Record):
    """One set of inputs: the dynamic-dim sizes, the draw, and whether every output agreed."""

    index: int
    sizes: dict[str, int]
    draw: str
    passed: bool
    error: str | None = None
    failed_outputs: tuple[str, ...] = ()
    #: PyTorch itself rejected these inputs: nothing to compare, the case does not count.
    skipped: bool = False


@dataclass(frozen=True, kw_only=True)
class ParityReport(_Record):
    """A runtime's outputs against the PyTorch reference, over every case."""

    runtime: str
    reference: str
    passed: bool
    atol: float
    rtol: float
    cases: tuple[CaseResult, ...]
    outputs: tuple[OutputParity, ...]
    seconds: float = 0.0


@dataclass(frozen=True, kw_only=True)
class DatasetReport(_Record):
    """Parity on the user's representative data: dataset-wide figures per output."""

    source: str
    samples: int
    batches: int
    passed: bool
    task: str | None
    outputs: tuple[OutputDatasetMetrics, ...]
    errors: tuple[str, ...] = ()
    failed_batches: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, kw_only=True)
class ModuleError(_Record):
    """One PyTorch module's output against its ONNX counterpart, for localization."""

    module: str
    module_type: str
    onnx_value: str | None
    max_abs_diff: float | None
    max_rel_diff: float | None
    diverged: bool | None  # None: not compared (``reason`` says why)
    #: The output the figures are for (a diverging one first, else the worst), e.g. 'output_1'.
    output: str | None = None
    #: How many of the module's outputs were paired with ONNX values and compared.
    outputs_compared: int = 0
    #: Why the module was not compared (no ONNX counterpart, outputs that cannot be paired).
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class Localization(_Record):
    """Where outputs part ways: the first module whose output diverges, and the trail after it."""

    case: str
    first_divergent_module: str | None
    module_type: str | None
    onnx_nodes: tuple[str, ...]
    error: float | None
    trail: tuple[ModuleError, ...]
    unmatched_modules: tuple[str, ...]
    #: Which output of the first divergent module diverges (its name in the module's output).
    divergent_output: str | None = None
    #: Where the divergence is: the forward of the first divergent module, whose children (all
    #: compared before it) agree: 'Block.forward at models.py:140'. '<root>' is the model itself.
    divergent_code: str | None = None
    #: The ONNX nodes of that module's own code (not inside any child).
    code_nodes: tuple[str, ...] = ()
    #: Modules inside the first divergent one that could not be compared: it may lie there too.
    uncompared_inside: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RunReport(_Record):
    """Everything one ``run`` found: export, check, verification, findings and the verdict."""

    status: Status
    model: str
    onnx_path: str | None
    exporter: str | None
    export_attempts: tuple[ExportAttempt, ...]
    opset: int | None
    opset_requested: int | None
    opset_reason: str | None = None
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    findings: tuple[Finding, ...]
    verification: ParityReport | None
    check: CheckReport | None
    external_data_file: str | None = None
    data: DatasetReport | None = None
    localization: Localization | None = None
    timings: dict[str, float] = field(default_factory=dict)
    log: tuple[str, ...] = ()
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        # Schema order: version and verdict first, the long log last.
        head = {k: data.pop(k) for k in ("schema_version", "status")}
        return {**head, **data}


def status_from(
    findings: tuple[Finding, ...], *, checks_passed: bool, fail_on: Severity = Severity.ERROR
) -> Status:
    """The verdict: fail when a check failed or a finding reaches ``fail_on``."""
    worst = max((f.severity.rank for f in findings), default=-1)
    return "pass" if checks_passed and worst < fail_on.rank else "fail"
