"""Rules that read the export record: training mode, fallback, tracer warnings, opset."""

from __future__ import annotations

import ast
import dataclasses
import functools
import linecache
import re
from collections.abc import Sequence

from onnxproof.linting._base import make_finding
from onnxproof.linting.range_rules import range_findings
from onnxproof.results import ExportResult, ExportWarning, Finding
from onnxproof.specs import Severity


def export_findings(result: ExportResult, *, built_here: bool = False) -> tuple[Finding, ...]:
    """Findings over an export record: training mode, fallback, what tracing froze, opset."""
    training_modules = result.training_modules
    attempts = result.attempts
    exporter = result.exporter or "?"
    data_dependent_locations = [a.location for a in attempts if a.data_dependent]
    findings: list[Finding] = []
    if training_modules:
        shown = ", ".join(training_modules[:8]) + (" …" if len(training_modules) > 8 else "")
        message = f"{len(training_modules)} module(s) were in training mode ({shown}); exported in eval mode"
        finding = make_finding("train-mode", message)
        if built_here:
            # onnxproof built the module from its class: training mode is merely nn.Module's
            # default, not a state the user left it in.
            finding = dataclasses.replace(
                finding,
                severity=Severity.INFO,
                message=message + " (as built: nn.Module's default)",
            )
        findings.append(finding)
    failed = [a for a in attempts if not a.ok]
    if failed and any(a.ok for a in attempts):
        first = failed[0]
        findings.append(
            make_finding(
                "export-fallback",
                f"{first.strategy} failed ({first.error}); the file was written by {exporter}",
            )
        )
    traced = tracer_findings(result.warnings)
    seen = {f.location for f in traced if f.code == "traced-control-flow"}
    for location in data_dependent_locations:
        if location in seen:
            continue  # the fallback's TracerWarning already names this line
        seen.add(location)
        where = f" at {location}" if location else ""
        findings.append(
            make_finding(
                "traced-control-flow",
                f"the dynamo exporter refused a data-dependent branch{where}",
                location=location,
            )
        )
    findings.extend(traced)
    findings.extend(_opset_findings(result, exporter))
    findings.extend(range_findings(result.dim_ranges))
    return tuple(findings)


def _opset_findings(result: ExportResult, exporter: str) -> list[Finding]:
    """Above the opset asked for is an error (a runtime capped there refuses the file); below
    it, a warning."""
    findings: list[Finding] = []
    written, requested = result.opset_written, result.opset_requested
    if written is not None and requested is not None and written > requested:
        findings.append(
            make_finding(
                "opset-above-request",
                f"asked for opset {requested}, the {exporter} exporter wrote {written} (it could "
                f"not convert the file down)",
            )
        )
    elif written is not None and written != requested:
        findings.append(
            make_finding(
                "opset-changed",
                f"asked for opset {result.opset_requested}, the {exporter} exporter wrote "
                f"{result.opset_written}",
            )
        )
    return findings


#: TracerWarnings that say a tensor became a Python bool: the branch taken is all the file holds.
#: A shape-only condition (``x.shape[0] > 1``) and a data-dependent one (``x.sum() > 0``) give the
#: same text; the line they name tells them apart (``_shape_only``).
_CONTROL_FLOW = re.compile(r"Converting a tensor to a Python boolean")
#: A shape read, whole: ``x.shape[1]``, ``x.shape``, ``x.size(0)``, ``x.dim()``, ``x.ndim``,
#: ``x.numel()``, ``len(x)`` (the object a dotted name).
_SHAPE_READ = re.compile(
    r"[A-Za-z_][\w.]*\.shape(\[\s*-?\d+\s*\])?|[A-Za-z_][\w.]*\.size\(\s*-?\d*\s*\)|"
    r"[A-Za-z_][\w.]*\.(dim|numel)\(\)|[A-Za-z_][\w.]*\.ndim\b|\blen\(\s*[A-Za-z_][\w.]*\s*\)"
)
#: What else a shape-only condition may hold: Python's own words, and names that are not
#: tensors by convention (a module attribute such as ``self.max_len``, an ALL_CAPS constant).
_KEYWORDS = set("if elif while assert and or not in is None True False".split())
_CONSTANT_NAME = re.compile(r"self\.\w+(\.\w+)*|[A-Z][A-Z0-9_]*")

#: TracerWarnings that say a tensor (or its length) became a Python value the trace keeps as a
#: constant: "Converting a tensor to a Python integer/float/number/index/list" or "to a NumPy
#: array", ``len(x)``, and iterating over a tensor (the count of iterations is fixed).
_CONSTANT = re.compile(
    r"Converting a tensor to a (Python|NumPy)|Using len to get tensor shape|"
    r"Iterating over a tensor|will show up as a constant"
)


def tracer_findings(warnings_seen: Sequence[ExportWarning]) -> list[Finding]:
    """TracerWarnings: a tensor became a Python bool (control flow) or number (a constant)."""
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for w in warnings_seen:
        if w.category != "TracerWarning":
            continue
        text = str(w.message)
        if _CONTROL_FLOW.search(text):
            source = _source_line(w.location)
            if source is not None and _guard_only(w.location):
                if ("traced-guard", w.location) not in seen:
                    seen.add(("traced-guard", w.location))
                    findings.append(
                        make_finding(
                            "traced-guard",
                            f"a check that raises was traced for the example: {source}",
                            location=w.location,
                        )
                    )
                continue
            if source is not None and _shape_only(source):
                key = ("traced-shape-branch", w.location)
                if key not in seen:
                    seen.add(key)
                    findings.append(
                        make_finding(
                            "traced-shape-branch",
                            f"a branch on a shape was traced for the example's sizes: {source}",
                            location=w.location,
                        )
                    )
                continue
            code = "traced-control-flow"
        elif _CONSTANT.search(text):
            code = "traced-constant"
        else:
            continue
        location = w.location
        if (code, location) in seen:
            continue
        seen.add((code, location))
        findings.append(make_finding(code, text.split(".")[0], location=location))
    return findings


def _source_line(location: str | None) -> str | None:
    """The stripped source line at ``path:line``, or None when it cannot be read."""
    if not location or ":" not in location:
        return None
    path, _, number = location.rpartition(":")
    if not number.isdigit():
        return None
    text = linecache.getline(path, int(number)).strip()
    return text or None


def _guard_only(location: str | None) -> bool:
    """Evidence that the traced condition at ``path:line`` only guards: the statement starting
    there is an ``assert``, or an ``if`` without ``else`` whose body is nothing but ``raise``."""
    if not location or ":" not in location:
        return False
    path, _, number = location.rpartition(":")
    if not number.isdigit():
        return False
    tree = _parsed(path)
    if tree is None:
        return False
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) != int(number):
            continue
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.If) and not node.orelse:
            return all(isinstance(statement, ast.Raise) for statement in node.body)
    return False


@functools.lru_cache(maxsize=32)
def _parsed(path: str) -> ast.Module | None:
    try:
        return ast.parse("".join(linecache.getlines(path)))
    except (SyntaxError, ValueError):
        return None


def _shape_only(source: str) -> bool:
    """Evidence that a traced condition reads shapes alone: an ``if``/``elif``/``while``/
    ``assert`` line (or a conditional expression) that reads at least one shape, and besides its
    shape reads holds only numbers, operators, Python's own words and names that are not tensors
    (``self.max_len``, ``MAX_LEN``). Any other name may be a tensor: the line stays a
    data-dependent branch, as does a line that cannot be read."""
    code = source.split("#", 1)[0].strip()
    match = re.match(r"(?:el)?if\b(.*):$|while\b(.*):$|assert\b([^,]*)", code)
    if match is not None:
        condition = next(g for g in match.groups() if g is not None)
    else:
        inline = re.search(r"\bif\b(.*)\belse\b", code)
        if inline is None:
            return False
        condition = inline.group(1)
    rest, found = _SHAPE_READ.subn(" 0 ", condition)
    if not found:
        return False
    for found_name in re.finditer(r"[A-Za-z_][\w.]*", rest):
        name, after = found_name.group(), rest[found_name.end() :].lstrip()
        if after.startswith(("(", "[")):  # a call or an index: self.count.item(), self.mask[0]
            return False
        if name not in _KEYWORDS and not _CONSTANT_NAME.fullmatch(name):
            return False
    return True
