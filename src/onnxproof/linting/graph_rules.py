"""Rules over the ONNX graph alone: stochastic ops, float64, external data, static and baked dims,
and ops with known numeric differences in reduced precision."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import onnx

from onnxproof.linting._base import GraphContext, Rule, listed, node_location, scalar, tensor_values
from onnxproof.results import Finding, ModelInfo
from onnxproof.specs import Severity, TensorSpec

RANDOM_OPS = {
    "RandomNormal",
    "RandomUniform",
    "RandomNormalLike",
    "RandomUniformLike",
    "Bernoulli",
    "Multinomial",
}
#: Ops whose results differ measurably between PyTorch and ONNX Runtime in float16/bfloat16
#: (long reductions accumulate in the low precision in some kernels).
PRECISION_SENSITIVE = {
    "LayerNormalization",
    "ReduceMean",
    "ReduceSum",
    "ReduceL2",
    "ReduceLogSumExp",
    "Softmax",
    "LogSoftmax",
    "GroupNormalization",
    "InstanceNormalization",
    "BatchNormalization",
    "CumSum",
}
SHAPE_INPUTS = {"Reshape": 1, "Expand": 1, "Tile": 1, "ConstantOfShape": 0, "Slice": 2}


def walk(graph: onnx.GraphProto) -> Iterator[onnx.NodeProto]:
    """Every node, subgraphs (If/Loop/Scan bodies) included."""
    for node in graph.node:
        yield node
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from walk(attr.g)
            for sub in attr.graphs:
                yield from walk(sub)


def constants(model: onnx.ModelProto) -> dict[str, onnx.TensorProto]:
    """Initializers and Constant-node values by name (read them with ``tensor_values``)."""
    values = {t.name: t for t in model.graph.initializer}
    for node in walk(model.graph):
        if node.op_type == "Constant" and node.output:  # one without is the checker's to report
            for attr in node.attribute:
                if attr.name == "value" and attr.type == onnx.AttributeProto.TENSOR:
                    values[node.output[0]] = attr.t
    return values


def _name(node: onnx.NodeProto) -> str:
    return node.name or f"({node.op_type})"


class StochasticOps(Rule):
    code = "stochastic-op"

    def check(self, context: GraphContext) -> Iterable[Finding]:
        known = constants(context.model)
        for node in walk(context.model.graph):
            reason = None
            if node.op_type in RANDOM_OPS:
                reason = f"{node.op_type} draws random numbers on every run"
            elif node.op_type == "Dropout" and len(node.input) > 2 and node.input[2]:
                reason = self._dropout(known.get(node.input[2]), context)
            elif node.op_type == "BatchNormalization" and any(
                a.name == "training_mode" and a.i == 1 for a in node.attribute
            ):
                reason = "BatchNormalization in training mode (batch statistics, not running ones)"
            if reason:
                yield self.finding(f"{_name(node)}: {reason}", **node_location(node))

    @staticmethod
    def _dropout(flag: onnx.TensorProto | None, context: GraphContext) -> str | None:
        """Why a Dropout is random, or None when its training_mode is a constant false."""
        if flag is None:
            return "Dropout with training_mode set"
        value = scalar(tensor_values(flag, context.base_dir))
        if value is None:  # a vector, missing data, external data out of reach: it may be set
            return "Dropout whose training_mode constant cannot be read (it may be set)"
        return "Dropout with training_mode set" if value else None


class Float64(Rule):
    code = "float64"

    def check(self, context: GraphContext) -> Iterable[Finding]:
        doubles = sorted(name for name, dtype in context.value_types.items() if dtype == "float64")
        if not doubles:
            return
        target = context.target
        lacks = target is not None and target.float64 == "unsupported"
        where = (
            f"{target.title} has no float64"
            if lacks and target
            else "slow or unsupported on several targets"
        )
        yield self.finding(
            f"{len(doubles)} float64 tensor(s) in the graph ({listed(doubles)}): {where}",
            severity=Severity.ERROR if lacks else None,
            target=target.name if target else None,
        )


class ExternalData(Rule):
    code = "external-data"

    def check(self, context: GraphContext) -> Iterable[Finding]:
        files = context.info.external_data_files
        if files:
            yield self.finding(
                f"the model loads its weights from {listed(files)}: ship it beside the .onnx"
            )


class StaticShape(Rule):
    """An input with no dynamic dim at all, where nothing says the user asked for one (a dim the
    specs declare dynamic but the file fixes is ``baked-dimension``, reported once there)."""

    code = "static-shape"

    def check(self, context: GraphContext) -> Iterable[Finding]:
        declared = {s.name for s in context.specs if s.dynamic_dims}
        for value in context.info.inputs:
            if value.name in declared:
                continue
            if value.shape and all(isinstance(d, int) for d in value.shape):
                dims = ",".join(str(d) for d in value.shape)
                yield self.finding(
                    f"input {value.name!r} has only static dims [{dims}]: its batch size is welded in",
                )


def fixed_dynamic_dims(
    specs: Iterable[TensorSpec], info: ModelInfo | None
) -> dict[str, list[tuple[str, int, int]]]:
    """Dims the specs declare dynamic that the file's inputs hold fixed: dim name → every
    (input, axis, fixed size) where it is fixed."""
    by_name = {v.name: v for v in info.inputs} if info else {}
    fixed: dict[str, list[tuple[str, int, int]]] = {}
    for spec in specs:
        value = by_name.get(spec.name)
        if value is None or value.shape is None:
            continue
        for axis, dim_name in spec.dynamic_dims.items():
            size = value.shape[axis] if axis < len(value.shape) else None
            if isinstance(size, int):
                fixed.setdefault(dim_name, []).append((spec.name, axis, size))
    return fixed


class BakedDimension(Rule):
    """A dim declared dynamic at export that the file holds fixed: one finding per dim, naming
    every input where it is fixed."""

    code = "baked-dimension"

    def check(self, context: GraphContext) -> Iterable[Finding]:
        for dim_name, places in fixed_dynamic_dims(context.specs, context.info).items():
            where = ", ".join(f"input {name!r} axis {axis}" for name, axis, _ in places)
            sizes = sorted({size for _, _, size in places})
            yield self.finding(
                f"dim {dim_name!r} ({where}) was declared dynamic but the file fixes it to "
                f"{', '.join(map(str, sizes))}",
            )


class PrecisionSensitive(Rule):
    code = "precision-sensitive-op"

    def check(self, context: GraphContext) -> Iterable[Finding]:
        hits: dict[str, list[str]] = {}
        for node in walk(context.model.graph):
            if node.op_type in PRECISION_SENSITIVE and node.input:
                dtype = context.value_types.get(node.input[0])
                if dtype in ("float16", "bfloat16"):
                    hits.setdefault(f"{node.op_type} in {dtype}", []).append(_name(node))
        for what, nodes in hits.items():
            yield self.finding(
                f"{what} at {listed(nodes)}: results differ from PyTorch by more than elementwise ops"
            )


RULES: tuple[Rule, ...] = (
    StochasticOps(),
    Float64(),
    ExternalData(),
    StaticShape(),
    BakedDimension(),
    PrecisionSensitive(),
)
