"""First-divergence localization: map PyTorch modules to ONNX values, compare both sides once.

The exporters record which module each node came from: the dynamo exporter in the node metadata
``pkg.torch.onnx.name_scopes`` (['', 'blocks.3', 'blocks.3.fc', 'op']), the TorchScript exporter
in scoped node names ('/blocks.3/fc/Gemm'). A module's ONNX counterpart is the value its nodes
produce for nodes outside it (or for the graph's outputs). All counterparts become extra outputs of
one ONNX Runtime run; PyTorch's side is one forward pass with hooks.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import onnx

from onnxproof.checking import node_module_paths
from onnxproof.results import Localization, ModuleError
from onnxproof.verification.metrics import compare
from onnxproof.verification.tolerance import TolerancePolicy


@dataclass(frozen=True)
class _Boundary:
    nodes: tuple[str, ...]
    outputs: tuple[str, ...]  # values leaving the module, in production order


def module_boundaries(model: onnx.ModelProto) -> dict[str, _Boundary]:
    """For each module path: its nodes and the values that leave it."""
    graph = model.graph
    members: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for path in node_module_paths(node):
            members.setdefault(path, []).append(node)
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    graph_outputs = {o.name for o in graph.output}
    boundaries = {}
    for path, nodes in members.items():
        inside = {id(n) for n in nodes}
        leaving = [
            out
            for n in nodes
            for out in n.output
            if out
            and (out in graph_outputs or any(id(c) not in inside for c in consumers.get(out, [])))
        ]
        boundaries[path] = _Boundary(nodes=tuple(n.name for n in nodes), outputs=tuple(leaving))
    return boundaries


def with_outputs(model: onnx.ModelProto, names: list[str]) -> onnx.ModelProto:
    """A copy of ``model`` that also outputs ``names`` (types left to the runtime)."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    present = {o.name for o in copy.graph.output}
    for name in names:
        if name not in present:
            copy.graph.output.append(onnx.ValueInfoProto(name=name))
            present.add(name)
    return copy


def localize(
    model: onnx.ModelProto,
    torch_modules: list[tuple[str, str, np.ndarray]],
    run_onnx: Callable[[str], dict[str, np.ndarray]],
    *,
    policy: TolerancePolicy,
    case: str,
) -> Localization:
    """Compare every module with its ONNX counterpart; ``run_onnx(path)`` runs a model file."""
    boundaries = module_boundaries(model)
    wanted = sorted({o for b in boundaries.values() for o in b.outputs})
    fd, tmp = tempfile.mkstemp(suffix=".onnx")
    os.close(fd)
    try:
        onnx.save(with_outputs(model, wanted), tmp)
        onnx_values = run_onnx(tmp)
    finally:
        os.unlink(tmp)
    trail: list[ModuleError] = []
    unmatched: list[str] = []
    first: ModuleError | None = None
    for path, type_name, reference in torch_modules:
        boundary = boundaries.get(path)
        value_name = _counterpart(boundary, onnx_values, reference) if boundary else None
        if value_name is None:
            unmatched.append(path)
            trail.append(
                ModuleError(
                    module=path,
                    module_type=type_name,
                    onnx_value=None,
                    max_abs_diff=None,
                    max_rel_diff=None,
                    diverged=None,
                )
            )
            continue
        atol, rtol = policy.for_output(path, str(reference.dtype))
        result = compare(onnx_values[value_name], reference, atol=atol, rtol=rtol)
        entry = ModuleError(
            module=path,
            module_type=type_name,
            onnx_value=value_name,
            max_abs_diff=result.max_abs_diff,
            max_rel_diff=result.max_rel_diff,
            diverged=not result.passed,
        )
        trail.append(entry)
        if first is None and entry.diverged:
            first = entry
    return Localization(
        case=case,
        first_divergent_module=first.module if first else None,
        module_type=first.module_type if first else None,
        onnx_nodes=boundaries[first.module].nodes if first else (),
        error=first.max_abs_diff if first else None,
        trail=tuple(trail),
        unmatched_modules=tuple(unmatched),
    )


def _counterpart(
    boundary: _Boundary, values: dict[str, np.ndarray], reference: np.ndarray
) -> str | None:
    """The last value leaving the module whose shape matches the PyTorch output."""
    for name in reversed(boundary.outputs):
        value = values.get(name)
        if value is not None and np.shape(value) == reference.shape:
            return name
    return None
