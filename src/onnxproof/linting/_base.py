"""What a rule is: a code, the data it reads, and ``check(context) -> findings``."""

from __future__ import annotations

import abc
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, TypedDict

import numpy as np
import onnx
from onnx import external_data_helper, numpy_helper

from onnxproof.checking import external_data_path
from onnxproof.linting.codes import CODES
from onnxproof.linting.targets import TargetProfile
from onnxproof.results import Finding, ModelInfo
from onnxproof.specs import Severity, TensorSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class GraphContext:
    """An ONNX model as the graph rules see it (no torch, no runtime)."""

    model: onnx.ModelProto
    info: ModelInfo
    #: The specs the file was exported with (from its provenance metadata), if it has them.
    specs: tuple[TensorSpec, ...] = ()
    target: TargetProfile | None = None
    #: value name → element type name, from shape inference.
    value_types: dict[str, str] = field(default_factory=dict)
    #: The model's folder, where its external data lives; None: external data is never read.
    base_dir: Path | None = None


class Rule(abc.ABC):
    """One check. ``code`` names the catalogue entry; ``reads`` says what it needs."""

    code: str
    reads: Literal["graph", "target"] = "graph"

    @abc.abstractmethod
    def check(self, context: GraphContext) -> Iterable[Finding]: ...

    def finding(
        self, message: str, *, severity: Severity | None = None, **where: str | None
    ) -> Finding:
        info = CODES[self.code]
        made = Finding(
            code=self.code, severity=info.severity, message=message, hint=info.fix, **where
        )
        return made if severity is None else replace(made, severity=severity)


def make_finding(code: str, message: str, **where: str | None) -> Finding:
    """A finding for ``code`` with the catalogue's severity and fix."""
    info = CODES[code]
    return Finding(code=code, severity=info.severity, message=message, hint=info.fix, **where)


def listed(names: Iterable[str], limit: int = 5) -> str:
    items = list(names)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


#: Constants the rules read are flags and shapes: a few elements. A larger one is never decoded,
#: so a hostile file cannot make lint read gigabytes.
MAX_CONSTANT_ELEMENTS = 4096


def tensor_values(tensor: onnx.TensorProto, base_dir: Path | None) -> np.ndarray | None:
    """The values of a small constant, or None where they cannot be read safely.

    None for an unknown element type, data that does not match the dims, more than
    MAX_CONSTANT_ELEMENTS elements, and external data that is not a file inside ``base_dir``
    (any external data when ``base_dir`` is None: never a path relative to the working directory).
    """
    count = 1
    for dim in tensor.dims:
        if dim < 0:
            return None
        count *= dim
    if count > MAX_CONSTANT_ELEMENTS:
        return None
    if external_data_helper.uses_external_data(tensor) and not _small_file_inside(tensor, base_dir):
        return None
    try:
        return numpy_helper.to_array(tensor, base_dir=str(base_dir) if base_dir else "")
    except Exception as exc:  # onnx raises ValueError, TypeError, KeyError, its ValidationError
        log.debug("cannot read tensor %r: %s", tensor.name, exc)
        return None


def _small_file_inside(tensor: onnx.TensorProto, base_dir: Path | None) -> bool:
    """The tensor's external data is a file inside ``base_dir``, and what would be read is small."""
    if base_dir is None:
        return False
    try:
        info = external_data_helper.ExternalDataInfo(tensor)
        path = external_data_path(base_dir, info.location)
        if path is None:
            return False
        # onnx reads ``length`` bytes, or the rest of the file when no length is given.
        size = info.length if info.length is not None else path.stat().st_size - (info.offset or 0)
    except (ValueError, TypeError, OSError):  # an offset that is not a number, a file gone
        return False
    return size <= MAX_CONSTANT_ELEMENTS * 16  # 16 bytes: the widest element (complex128)


def scalar(values: np.ndarray | None) -> object | None:
    """The one element of ``values`` as a Python value; None unless it holds exactly one."""
    return values.item() if values is not None and values.size == 1 else None


class NodeWhere(TypedDict):
    node: str | None
    module: str | None


def node_location(node: onnx.NodeProto) -> NodeWhere:
    """``node`` and, where the exporter recorded it, ``module`` (the PyTorch module path)."""
    from onnxproof.checking import node_module_paths

    try:
        paths = [p for p in node_module_paths(node) if isinstance(p, str)]
    except Exception:  # metadata written by hand rather than by the exporter: no module known
        paths = []
    return NodeWhere(node=node.name or None, module=paths[-1] if paths else None)
