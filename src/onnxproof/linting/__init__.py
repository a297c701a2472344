"""Findings with stable codes. Rules are small objects, one module per family; targets are data.

``lint_graph`` runs the graph rules once and the target rules per target. It needs onnx only.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

import onnx
from onnx import helper

from onnxproof.errors import InputSpecError
from onnxproof.linting import graph_rules, target_rules
from onnxproof.linting._base import GraphContext
from onnxproof.linting.codes import CODES, FindingCode
from onnxproof.linting.targets import TargetProfile, load_target, target_names
from onnxproof.results import Finding, ModelInfo
from onnxproof.specs import TensorSpec, parse_input_specs

log = logging.getLogger(__name__)


def value_types(model: onnx.ModelProto) -> dict[str, str]:
    """Element type of every named value, after (non-strict) shape inference."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception as exc:  # the checker reports this; the rules still run on what is known
        log.info("shape inference failed: %s", exc)
        inferred = model
    types: dict[str, str] = {}
    graph = inferred.graph
    for value in (*graph.input, *graph.output, *graph.value_info):
        elem = value.type.tensor_type.elem_type if value.type.HasField("tensor_type") else 0
        if elem:
            types[value.name] = _dtype_name(elem)
    for tensor in graph.initializer:
        types[tensor.name] = _dtype_name(tensor.data_type)
    return types


def _dtype_name(elem_type: int) -> str:
    if elem_type == onnx.TensorProto.BFLOAT16:
        return "bfloat16"
    return helper.tensor_dtype_to_np_dtype(elem_type).name


def specs_from_metadata(info: ModelInfo) -> tuple[TensorSpec, ...]:
    """The input specs onnxproof recorded at export, or () for files from elsewhere."""
    text = info.metadata.get("onnxproof.inputs")
    if not text:
        return ()
    try:
        return parse_input_specs(tuple(part for part in text.split("; ") if part))
    except InputSpecError:
        return ()


def lint_graph(
    model: onnx.ModelProto,
    info: ModelInfo,
    *,
    targets: Sequence[str] = (),
    specs: tuple[TensorSpec, ...] | None = None,
) -> tuple[Finding, ...]:
    """Graph rules once, then per target the target rules (and float64 where it is missing)."""
    profiles = [load_target(name) for name in targets]  # unknown names fail before any work
    context = GraphContext(
        model=model,
        info=info,
        specs=specs if specs is not None else specs_from_metadata(info),
        value_types=value_types(model),
    )
    findings = [f for rule in graph_rules.RULES for f in rule.check(context)]
    for profile in profiles:
        targeted = dataclasses.replace(context, target=profile)
        if profile.ops == {}:  # no ONNX path at all: one finding says so, the rest is noise
            findings.extend(target_rules.UnsupportedOps().check(targeted))
            continue
        for rule in target_rules.RULES:
            findings.extend(rule.check(targeted))
        if profile.float64 == "unsupported":
            findings.extend(graph_rules.Float64().check(targeted))
        if profile.ops is None:
            log.info("target %s has no op list: op support was not checked", profile.name)
    return tuple(findings)


__all__ = ["CODES", "FindingCode", "TargetProfile", "lint_graph", "load_target", "target_names"]
