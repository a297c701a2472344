"""What a rule is: a code, the data it reads, and ``check(context) -> findings``."""

from __future__ import annotations

import abc
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal, TypedDict

import onnx

from onnxproof.linting.codes import CODES
from onnxproof.linting.targets import TargetProfile
from onnxproof.results import Finding, ModelInfo
from onnxproof.specs import Severity, TensorSpec


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


class NodeWhere(TypedDict):
    node: str | None
    module: str | None


def node_location(node: onnx.NodeProto) -> NodeWhere:
    """``node`` and, where the exporter recorded it, ``module`` (the PyTorch module path)."""
    from onnxproof.checking import node_module_paths

    paths = node_module_paths(node)
    return NodeWhere(node=node.name or None, module=paths[-1] if paths else None)
