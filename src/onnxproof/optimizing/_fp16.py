"""What stays float32 in the fp16 variant: precision-sensitive ops, and decomposed normalizations.

float16 holds at most 65504 and ~3 decimal digits. Kept in float32, and why:
- normalizations (LayerNormalization and ONNX Runtime's fused forms, GroupNormalization,
  InstanceNormalization): they square their input; activations of 1e3 already square past 65504.
- reductions (ReduceMean, ReduceSum, ReduceSumSquare, ReduceL2, ReduceLogSumExp, ReduceProd):
  a sum of many values overflows, or loses the small terms.
- Softmax, LogSoftmax, Exp, Pow: exponentials overflow at 11.1; a power of 2 at 256.
- a normalization written out by hand (``(x - mean) / sqrt(var + eps)`` with ``var`` from
  ``x * x`` or ``x.pow(2)``): every node from the square up to the ``Sqrt`` (or ``Reciprocal``)
  it feeds, found on the graph, since no op type names it.
"""

from __future__ import annotations

import onnx

BLOCKED_OPS = (
    "LayerNormalization",
    "SimplifiedLayerNormalization",
    "SkipLayerNormalization",
    "SkipSimplifiedLayerNormalization",
    "GroupNormalization",
    "InstanceNormalization",
    "ReduceMean",
    "ReduceSum",
    "ReduceSumSquare",
    "ReduceL2",
    "ReduceLogSumExp",
    "ReduceProd",
    "Softmax",
    "LogSoftmax",
    "Exp",
    "Pow",
)
#: How far from a square its Sqrt may be (nodes in between) to count as one normalization.
_MAX_PATH = 8
_ENDS = ("Sqrt", "Reciprocal")


def block_lists(model: onnx.ModelProto) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(op types, node names) to keep in float32."""
    return BLOCKED_OPS, decomposed_normalization_nodes(model)


def decomposed_normalization_nodes(model: onnx.ModelProto) -> tuple[str, ...]:
    """Names of the nodes on every path from a square (``Pow``, ``Mul(x, x)``) to a ``Sqrt``."""
    nodes = list(model.graph.node)
    consumers: dict[str, list[int]] = {}
    for index, node in enumerate(nodes):
        for name in node.input:
            consumers.setdefault(name, []).append(index)
    squares = [
        i
        for i, n in enumerate(nodes)
        if n.op_type == "Pow"
        or (n.op_type == "Mul" and len(n.input) == 2 and n.input[0] == n.input[1])
    ]
    blocked: set[int] = set()

    def walk(index: int, path: list[int]) -> None:
        node = nodes[index]
        if node.op_type in _ENDS:
            blocked.update(path)
            return
        if len(path) > _MAX_PATH:
            return
        for out in node.output:
            for nxt in consumers.get(out, ()):
                if nxt not in path:
                    walk(nxt, [*path, nxt])

    for square in squares:
        walk(square, [square])
    return tuple(nodes[i].name for i in sorted(blocked) if nodes[i].name)


def retarget_casts(model: onnx.ModelProto) -> int:
    """Make each ``Cast`` to float32 whose output the converter declared float16 cast to float16.

    onnxconverter-common turns a Cast's output value to float16 but leaves its ``to`` attribute
    at float32 (an open upstream defect: a mask cast with ``mask.float()`` then makes a file
    ONNX Runtime refuses to load). The consumers were converted to float16, so ``to`` is what is
    wrong. Returns how many casts were changed.
    """
    graph = model.graph
    declared = {
        v.name: v.type.tensor_type.elem_type
        for v in [*graph.value_info, *graph.output]
        if v.type.HasField("tensor_type")
    }
    changed = 0
    for node in graph.node:
        if node.op_type != "Cast" or not node.output:
            continue
        if declared.get(node.output[0]) != onnx.TensorProto.FLOAT16:
            continue
        for attribute in node.attribute:
            if attribute.name == "to" and attribute.i == onnx.TensorProto.FLOAT:
                attribute.i = onnx.TensorProto.FLOAT16
                changed += 1
    return changed
