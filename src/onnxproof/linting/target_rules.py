"""Rules against a target profile: opset too new, ops (and op + dtype) the target lacks, int64 and
dynamic shapes where the target cannot take them."""

from __future__ import annotations

from collections.abc import Iterable

from onnxproof.linting._base import GraphContext, Rule, listed, node_location
from onnxproof.linting.graph_rules import walk
from onnxproof.results import Finding
from onnxproof.specs import Severity


class OpsetTooNew(Rule):
    code = "opset-too-new"
    reads = "target"

    def check(self, context: GraphContext) -> Iterable[Finding]:
        target = context.target
        opset = context.info.opset_imports.get("ai.onnx")
        if (
            target
            and target.max_opset is not None
            and opset is not None
            and opset > target.max_opset
        ):
            yield self.finding(
                f"opset {opset} is above {target.max_opset}, the highest {target.title} accepts",
                target=target.name,
            )


class UnsupportedOps(Rule):
    code = "unsupported-op"
    reads = "target"

    def check(self, context: GraphContext) -> Iterable[Finding]:
        target = context.target
        if target is None or target.ops is None:
            return
        if not target.ops:
            yield self.finding(
                f"{target.title} takes no ONNX models: {target.notes}", target=target.name
            )
            return
        missing: dict[str, list] = {}  # type: ignore[type-arg]
        for node in walk(context.model.graph):
            label = self._unsupported(node, context)
            if label:
                missing.setdefault(label, []).append(node)
        for label, nodes in sorted(missing.items()):
            names = [n.name or f"({n.op_type})" for n in nodes]
            yield self.finding(
                f"{label} is not supported by {target.title} ({len(nodes)} node(s): {listed(names)})",
                target=target.name,
                **node_location(nodes[0]),
            )

    @staticmethod
    def _unsupported(node, context: GraphContext) -> str | None:  # type: ignore[no-untyped-def]
        target = context.target
        assert target is not None and target.ops is not None
        if node.domain in ("", "ai.onnx"):
            if node.op_type not in target.ops:
                return node.op_type
            allowed = target.ops[node.op_type]
            dtype = next(
                (context.value_types.get(i) for i in node.input if i in context.value_types), None
            )
            if allowed is not None and dtype is not None and dtype not in allowed:
                return f"{node.op_type} on {dtype}"
            return None
        if node.domain == "com.microsoft":
            supported = target.ms_domain_ops or ()
            return None if node.op_type in supported else f"{node.domain}.{node.op_type}"
        return f"{node.domain}.{node.op_type}"


class Int64Limits(Rule):
    code = "int64-unsupported"
    reads = "target"

    def check(self, context: GraphContext) -> Iterable[Finding]:
        target = context.target
        if target is None or target.int64 == "supported":
            return
        inputs = [
            v.name for v in (*context.info.inputs, *context.info.outputs) if v.dtype == "int64"
        ]
        if inputs:
            severity = Severity.ERROR if target.int64 == "unsupported" else Severity.WARNING
            yield self.finding(
                f"int64 model inputs/outputs ({listed(inputs)}): {target.title} support is {target.int64}",
                severity=severity,
                target=target.name,
            )


class DynamicShapes(Rule):
    code = "dynamic-shape-unsupported"
    reads = "target"

    def check(self, context: GraphContext) -> Iterable[Finding]:
        target = context.target
        if target is None or target.dynamic_shapes == "supported":
            return
        dynamic = [
            v.name
            for v in context.info.inputs
            if v.shape and any(not isinstance(d, int) for d in v.shape)
        ]
        if dynamic:
            severity = Severity.ERROR if target.dynamic_shapes == "unsupported" else Severity.INFO
            yield self.finding(
                f"inputs {listed(dynamic)} have dynamic dims; {target.title} support is {target.dynamic_shapes}",
                severity=severity,
                target=target.name,
            )


RULES: tuple[Rule, ...] = (OpsetTooNew(), UnsupportedOps(), Int64Limits(), DynamicShapes())
