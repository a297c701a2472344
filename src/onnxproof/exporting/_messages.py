"""Exporter exceptions → short, actionable text. Exporter errors run to hundreds of lines."""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNSUPPORTED_PATTERNS = (
    # dynamo: "No ONNX function found for <OpOverload(op='aten.foo', overload='default')>"
    re.compile(r"No ONNX function found for <OpOverload\(op='(?P<op>[\w.:]+)'"),
    re.compile(r"No ONNX function found for (?P<op>[\w.:]+)"),
    # torchscript: "Exporting the operator 'aten::foo' to ONNX opset version 18 is not supported"
    re.compile(
        r"Exporting the operator '?(?P<op>[\w:.]+)'? to ONNX opset version \d+ is not supported"
    ),
    re.compile(r"Could not export operator (?P<op>[\w:.]+)"),
    re.compile(r"Unsupported: ONNX export of operator (?P<op>[\w:.]+)"),
)
_DATA_DEPENDENT = re.compile(
    r"GuardOnDataDependentSymNode|data[- ]dependent|Could not guard on data-dependent", re.I
)
_USER_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')


@dataclass(frozen=True, kw_only=True)
class ExportFailure:
    """What kind of failure an exporter hit, in words a user can act on."""

    summary: str
    unsupported_op: str | None = None
    data_dependent: bool = False
    location: str | None = None


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def describe(error: BaseException) -> ExportFailure:
    text = _ANSI.sub("", f"{type(error).__name__}: {error}")
    for pattern in _UNSUPPORTED_PATTERNS:
        match = pattern.search(text)
        if match:
            op = match["op"].replace(".default", "")
            return ExportFailure(
                summary=f"operator {op} has no ONNX translation", unsupported_op=op
            )
    if _DATA_DEPENDENT.search(text):
        location = user_location(text)
        where = f" at {location}" if location else ""
        return ExportFailure(
            summary=f"data-dependent control flow{where}: the branch depends on tensor values",
            data_dependent=True,
            location=location,
        )
    return ExportFailure(summary=first_line(text))


def first_line(text: str, limit: int = 300) -> str:
    """The first meaningful line of an error, shortened."""
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("Traceback", "File ", "^")):
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return text[:limit]


def user_location(text: str) -> str | None:
    """The last stack frame outside torch and onnxproof: where the user's code stands."""
    frames = [
        f"{m['file']}:{m['line']}"
        for m in _USER_FRAME.finditer(text)
        if "/torch/" not in m["file"] and "/onnxproof/" not in m["file"] and "<" not in m["file"]
    ]
    return frames[-1] if frames else None
