"""Model info: inputs/outputs with symbolic dims by name, opsets, counts, sizes."""

from __future__ import annotations

import collections
from pathlib import Path

import onnx
from onnx import helper

from onnxproof.results import ModelInfo, TensorInfo


def dtype_name(elem_type: int) -> str | None:
    """The NumPy name of an ONNX element type (``bfloat16`` too); None when it names no type."""
    if elem_type == onnx.TensorProto.BFLOAT16:
        return "bfloat16"
    try:
        return str(helper.tensor_dtype_to_np_dtype(elem_type).name)
    except (KeyError, ValueError, TypeError):  # UNDEFINED, or a number no ONNX version defines
        return None


def external_data_path(model_dir: str | Path, location: str) -> Path | None:
    """Where ``location`` (an external-data entry) points, if that is a regular file inside
    ``model_dir``; None otherwise.

    A file's external data may only come from its own folder: an absolute path, ``..`` or a link
    leading out would let a model read (or probe for) any file on the machine.
    """
    if not location or "\0" in location or Path(location).is_absolute():
        return None
    try:
        folder = Path(model_dir).resolve()
        target = (folder / location).resolve()
        inside = target.is_relative_to(folder) and target.is_file()
    except (OSError, RuntimeError, ValueError):  # a name too long, a link loop
        return None
    return target if inside else None


def tensor_info(value: onnx.ValueInfoProto) -> TensorInfo:
    kind = value.type.WhichOneof("value")
    if kind != "tensor_type":
        return TensorInfo(name=value.name, dtype=kind or "unknown", shape=None)
    tensor_type = value.type.tensor_type
    dtype = dtype_name(tensor_type.elem_type) or "unknown"
    if not tensor_type.HasField("shape"):
        return TensorInfo(name=value.name, dtype=dtype, shape=None)
    dims: list[int | str | None] = []
    for dim in tensor_type.shape.dim:
        if dim.HasField("dim_value"):
            dims.append(dim.dim_value)
        elif dim.HasField("dim_param"):
            dims.append(dim.dim_param)
        else:
            dims.append(None)
    return TensorInfo(name=value.name, dtype=dtype, shape=tuple(dims))


def _all_nodes(graph: onnx.GraphProto) -> list[onnx.NodeProto]:
    nodes = []
    for node in graph.node:
        nodes.append(node)
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                nodes.extend(_all_nodes(attr.g))
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for sub in attr.graphs:
                    nodes.extend(_all_nodes(sub))
    return nodes


def _element_count(tensor: onnx.TensorProto) -> int:
    count = 1
    for dim in tensor.dims:
        count *= max(dim, 0)  # a negative dim is the checker's to report, not a negative count
    return count


def model_info(model: onnx.ModelProto, path: str | Path | None = None) -> ModelInfo:
    """Describe ``model`` (loaded without external data is fine: counts come from dims)."""
    initializers = {t.name for t in model.graph.initializer}
    nodes = _all_nodes(model.graph)
    external: list[str] = []
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location" and entry.value not in external:
                external.append(entry.value)
    size = 0
    if path is not None:
        base = Path(path)
        # Only files the model may read count: a size that grew with a path outside its folder
        # would tell whoever wrote the file whether that path exists.
        inside = {external_data_path(base.parent, name) for name in external} - {None}
        size = base.stat().st_size + sum(p.stat().st_size for p in inside if p is not None)
    return ModelInfo(
        inputs=tuple(tensor_info(v) for v in model.graph.input if v.name not in initializers),
        outputs=tuple(tensor_info(v) for v in model.graph.output),
        opset_imports={o.domain or "ai.onnx": o.version for o in model.opset_import},
        ir_version=model.ir_version,
        producer=f"{model.producer_name} {model.producer_version}".strip(),
        node_count=len(nodes),
        op_counts=dict(collections.Counter(n.op_type for n in nodes).most_common()),
        parameter_count=sum(_element_count(t) for t in model.graph.initializer),
        file_size=size,
        external_data_files=tuple(external),
        metadata={p.key: p.value for p in model.metadata_props},
    )
