"""Per-node drift: where, in topological order, a variant stops computing what the float model
computes, and which PyTorch module that node came from.

Both files run on the same samples with every intermediate value exposed as an output
(``verification.localize.run_with_outputs``); the values that exist in both graphs are paired
by name. In a QDQ model a value ``T`` read by the next node is ``DequantizeLinear(Quantize
Linear(T))``, so ``T``'s counterpart is that DequantizeLinear's output when there is one: the
value as the next node sees it, quantization error included.

Exposing every value also makes ONNX Runtime keep each one in the variant's own precision (on
CPU it otherwise computes float16 graphs in float32 between casts it then removes), so a float16
overflow shows here as inf/NaN even where the plain run hid it.

Blame, for the next round: the first drifted node, and, for int8, the nodes producing its
quantized inputs (found through their Q/DQ pairs): ONNX Runtime quantizes a value when the node
on either side is quantized, so a value is kept float only with both its ends excluded.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import onnx

from onnxproof.checking import node_scopes
from onnxproof.results import DriftReport, NodeDrift
from onnxproof.verification.localize import run_with_outputs

#: How many of the lowest-SQNR nodes a report keeps.
WORST = 5

RunFile = Callable[[str, Mapping[str, np.ndarray]], Mapping[str, np.ndarray]]


def sqnr_db(reference: np.ndarray, actual: np.ndarray) -> float:
    """10·log10(‖ref‖² / ‖ref − actual‖²); -inf when ``actual`` is not finite where ``ref`` is."""
    ref = reference.astype(np.float64).ravel()
    got = actual.astype(np.float64).ravel()
    finite = np.isfinite(ref)
    if not np.isfinite(got[finite]).all():
        return -math.inf
    ref, got = ref[finite], got[finite]
    noise = float(np.sum((ref - got) ** 2))
    signal = float(np.sum(ref**2))
    if noise == 0.0:
        return math.inf
    if signal == 0.0:
        return -math.inf if noise > 0 else math.inf
    return 10.0 * math.log10(signal / noise)


def node_drift(
    float_path: Path,
    variant_path: Path,
    feeds: Mapping[str, np.ndarray],
    run: RunFile,
    *,
    threshold_db: float,
    scopes_from: onnx.ModelProto | None = None,
    quantized: bool = False,
) -> DriftReport:
    """Drift of every value present in both graphs, on ``feeds``; the first one below
    ``threshold_db`` and the nodes to exclude next. ``scopes_from`` (the exported file) names
    the module when the float model lost the exporter's metadata."""
    float_model = onnx.load(str(float_path))
    variant = onnx.load(str(variant_path))
    counterpart = _counterparts(float_model, variant)
    producers = [(node, out) for node in float_model.graph.node for out in node.output]
    pairs = [(node, out) for node, out in producers if out and out in counterpart]
    inputs = {i.name for i in float_model.graph.input}
    own = {k: v for k, v in feeds.items() if k in inputs}
    reference = run_with_outputs(float_model, [o for _, o in pairs], lambda p: run(p, own))
    wanted = [counterpart[o] for _, o in pairs]
    actual = run_with_outputs(variant, wanted, lambda p: run(p, own))
    module_of = _module_lookup(float_model, scopes_from)
    float_nodes = {n.name: n for n in float_model.graph.node if n.name}
    variant_producer = {o: n.name for n in variant.graph.node for o in n.output}
    drifts: list[NodeDrift] = []
    overflowed: list[NodeDrift] = []
    for node, out in pairs:
        # A node the variant fused away (a Relu into its Gemm) left its value to the fused
        # node: that one, present under its float name, is the node to name and exclude.
        node = float_nodes.get(variant_producer.get(out, ""), node)
        ref, got = reference.get(out), actual.get(counterpart[out])
        if ref is None or got is None or ref.dtype.kind != "f" or got.dtype.kind != "f":
            continue
        if ref.shape != got.shape or ref.size == 0:
            continue
        drift = NodeDrift(
            node=node.name,
            op_type=node.op_type,
            tensor=out,
            sqnr_db=round(sqnr_db(ref, got), 2),
            module=module_of(node, out),
        )
        drifts.append(drift)
        if drift.sqnr_db == -math.inf and np.isfinite(ref).all():
            overflowed.append(drift)
    first = next((d for d in drifts if d.sqnr_db < threshold_db), None)
    blamed, reason = _blame(first, variant, quantized)
    samples = len(next(iter(own.values()))) if own else 0
    return DriftReport(
        threshold_db=threshold_db,
        samples=samples,
        compared=len(drifts),
        first=first,
        blamed=blamed,
        blame_reason=reason,
        worst=tuple(sorted(drifts, key=lambda d: d.sqnr_db)[:WORST]),
        overflowed=tuple(overflowed[:20]),
    )


def _counterparts(float_model: onnx.ModelProto, variant: onnx.ModelProto) -> dict[str, str]:
    """Float value name → the variant's value holding it (after its Q/DQ pair, if any)."""
    produced = {o for n in variant.graph.node for o in n.output if o}
    by_output = {o: n for n in variant.graph.node for o in n.output}
    after_qdq: dict[str, str] = {}
    for node in variant.graph.node:
        if node.op_type != "DequantizeLinear":
            continue
        quantize = by_output.get(node.input[0])
        if quantize is not None and quantize.op_type == "QuantizeLinear":
            after_qdq.setdefault(quantize.input[0], node.output[0])
    names = {o for n in float_model.graph.node for o in n.output if o}
    pairs = {}
    for name in names:
        if name in after_qdq:
            pairs[name] = after_qdq[name]
        elif name in produced:
            pairs[name] = name
    return pairs


def _module_lookup(
    float_model: onnx.ModelProto, exported: onnx.ModelProto | None
) -> Callable[[onnx.NodeProto, str], str | None]:
    """The innermost module scope of a node, from its own metadata or, failing that, from the
    node of the exported file that produced the same value."""
    exported_by_output = (
        {o: n for n in exported.graph.node for o in n.output} if exported is not None else {}
    )

    def module(node: onnx.NodeProto, value: str) -> str | None:
        for candidate in (node, exported_by_output.get(value)):
            if candidate is None:
                continue
            scopes = node_scopes(candidate, ())
            if scopes:
                return scopes[-1]
        return None

    return module


def _blame(
    first: NodeDrift | None, variant: onnx.ModelProto, quantized: bool
) -> tuple[tuple[str, ...], str]:
    if first is None:
        return (), ""
    if not quantized:
        return (first.node,), f"{first.node} drifted first"
    by_output = {o: n for n in variant.graph.node for o in n.output}
    node = next((n for n in variant.graph.node if n.name == first.node), None)
    producers: list[str] = []
    for name in node.input if node is not None else ():
        dq = by_output.get(name)
        if dq is None or dq.op_type != "DequantizeLinear":
            continue
        q = by_output.get(dq.input[0])
        if q is None or q.op_type != "QuantizeLinear":
            continue  # a weight's DequantizeLinear: no producer node to exclude
        producer = by_output.get(q.input[0])
        if producer is not None and producer.name and producer.name != first.node:
            producers.append(producer.name)
    if not producers:
        return (first.node,), f"{first.node} drifted first"
    return (first.node, *producers), (
        f"{first.node} drifted first; {', '.join(producers)} produce(s) its quantized input, "
        "which stays quantized unless both its ends are excluded"
    )
