"""Runtime error text → what it means for this model: which input, which dim, what to do."""

from __future__ import annotations

import re

from onnxproof.specs import TensorSpec

_INVALID_DIMS = re.compile(
    r"Got invalid dimensions for input: (?P<input>\S+) for the following indices\s+"
    r"index: (?P<index>\d+) Got: (?P<got>\d+) Expected: (?P<expected>\d+)"
)
_RESHAPE = re.compile(
    r"cannot be reshaped to the requested shape\. Input shape:(?P<inp>\{[^}]*\}), requested shape:(?P<req>\{[^}]*\})"
)
_NODE = re.compile(r"node\. Name:'(?P<node>[^']*)'")
_NO_SHAPE = re.compile(r"does not have shape information|has no shape information", re.I)


def explain_runtime_error(
    message: str, specs: tuple[TensorSpec, ...], sizes: dict[str, int]
) -> str:
    """One line saying what failed and why, with the runtime's own words kept short at the end."""
    short = " ".join(message.split())[:300]
    match = _INVALID_DIMS.search(message)
    if match:
        name, index = match["input"], int(match["index"])
        spec = next((s for s in specs if s.name == name), None)
        dim_name = spec.dims[index].name if spec and index < len(spec.dims) else None
        declared = f" (declared dynamic as {dim_name!r})" if dim_name else ""
        return (
            f"input {name!r} dim {index}{declared} is fixed to {match['expected']} in the ONNX file "
            f"but this case feeds {match['got']}: the size was baked in at export — declare the dim "
            f"by name in --input and check the model does not turn it into a constant"
        )
    match = _RESHAPE.search(message)
    if match:
        node = _NODE.search(message)
        where = f" at node {node['node']}" if node else ""
        return (
            f"a Reshape{where} carries a shape constant from the example size (input {match['inp']}, "
            f"requested {match['req']}) at sizes {sizes}: a dynamic dim was baked in — use "
            f"x.shape[i] / -1 rather than Python numbers in reshape/view"
        )
    if _NO_SHAPE.search(message):
        return (
            f"the runtime lacks shape information ({short}); run onnxproof check on the file and "
            f"export with every input's dims declared in --input"
        )
    node = _NODE.search(message)
    where = f"node {node['node']}: " if node else ""
    return f"{where}{short}"


def explain_load_error(message: str) -> str:
    """Why a runtime rejected a file, in one line, with what to look at."""
    short = " ".join(message.split())[:300]
    if "single static assignment" in message or "SSA" in message:
        return f"{short} — a name is defined twice in the graph; run onnxproof check on the file"
    if "opset" in message.lower() and ("support" in message.lower() or "till" in message):
        return f"{short} — the runtime is older than the file's opset; export with a lower --opset"
    if _NO_SHAPE.search(message):
        return f"{short} — declare every input's dims in --input and run onnxproof check"
    return short
