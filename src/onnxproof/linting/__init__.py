"""Findings with stable codes. Rules are small objects, one module per family; targets are data.

``lint_graph`` runs the graph rules once and the target rules per target. It needs onnx only.
Rules read files that anyone may have written: each guards its own assumptions, and ``lint_graph``
turns a rule that raises anyway into a logged skip. Set ONNXPROOF_STRICT_LINT=1 to make it raise
(the test suite does, so a rule that breaks on a valid model is a failing test).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import onnx

from onnxproof.checking import dtype_name
from onnxproof.errors import InputSpecError
from onnxproof.linting import graph_rules, target_rules
from onnxproof.linting._base import GraphContext, Rule, make_finding
from onnxproof.linting.codes import CODES, FindingCode
from onnxproof.linting.targets import TargetProfile, load_target, target_names
from onnxproof.results import CheckReport, Finding, ModelInfo
from onnxproof.specs import TensorSpec, parse_input_specs

log = logging.getLogger(__name__)

#: When set (to anything but "" or "0"), a rule that raises is an error, not a logged skip.
STRICT_ENV = "ONNXPROOF_STRICT_LINT"


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
        name = dtype_name(elem)
        if name:  # an unknown element type is the checker's to report; the rules skip it
            types[value.name] = name
    for tensor in graph.initializer:
        name = dtype_name(tensor.data_type)
        if name:
            types[tensor.name] = name
    return types


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
    base_dir: str | Path | None = None,
) -> tuple[Finding, ...]:
    """Graph rules once, then per target the target rules (and float64 where it is missing).

    ``base_dir`` is the model's folder: rules read external data from there and nowhere else.
    Without it, they read no external data at all.
    """
    profiles = [load_target(name) for name in targets]  # unknown names fail before any work
    context = GraphContext(
        model=model,
        info=info,
        specs=specs if specs is not None else specs_from_metadata(info),
        value_types=value_types(model),
        base_dir=Path(base_dir) if base_dir is not None else None,
    )
    findings = [f for rule in graph_rules.RULES for f in _run(rule, context)]
    for profile in profiles:
        targeted = dataclasses.replace(context, target=profile)
        if profile.ops == {}:  # no ONNX path at all: one finding says so, the rest is noise
            findings.extend(_run(target_rules.UnsupportedOps(), targeted))
            continue
        for rule in target_rules.RULES:
            findings.extend(_run(rule, targeted))
        if profile.float64 == "unsupported":
            findings.extend(_run(graph_rules.Float64(), targeted))
        if profile.ops is None:
            log.info("target %s has no op list: op support was not checked", profile.name)
    return tuple(findings)


def _run(rule: Rule, context: GraphContext) -> list[Finding]:
    """The rule's findings; a rule that raises on a file it cannot read is skipped, and logged.

    The file may be anything (the checker reports what is wrong with it): one rule tripping over
    it must not cost the user the other rules' findings, nor end the command in a traceback.
    """
    try:
        return list(rule.check(context))
    except Exception as exc:
        if os.environ.get(STRICT_ENV, "") not in ("", "0"):
            raise
        target = f" for {context.target.name}" if context.target else ""
        log.info("rule %s skipped%s: %s: %s", rule.code, target, type(exc).__name__, exc)
        return []


def check_findings(report: CheckReport) -> tuple[Finding, ...]:
    """``invalid-model`` when onnx.checker or strict shape inference rejected the file."""
    if report.passed:
        return ()
    return (
        make_finding("invalid-model", report.checker_error or report.shape_inference_error or ""),
    )


__all__ = [
    "CODES",
    "STRICT_ENV",
    "FindingCode",
    "TargetProfile",
    "check_findings",
    "lint_graph",
    "load_target",
    "target_names",
]
