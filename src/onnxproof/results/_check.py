"""Records of checking one file: findings, tensors, model info, the check report."""

from __future__ import annotations

from dataclasses import dataclass

from onnxproof.results._base import Status, _Record
from onnxproof.specs import Severity


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
    #: The verdict over the checks and the findings (set by ``onnxproof.check``).
    status: Status = "pass"

    @property
    def passed(self) -> bool:
        """The file is valid ONNX (findings are judged apart, with --fail-on)."""
        return self.checker_passed and self.shape_inference_passed is not False
