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
    #: The whole cause, without tracebacks, colour codes or the exporter's "Next steps" advice.
    detail: str = ""
    unsupported_op: str | None = None
    data_dependent: bool = False
    location: str | None = None


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: torch.onnx wraps the cause: "<what failed>. This is step N/3 ... Next steps:\n- …\n\n## Exception
#: summary\n\n<class 'X'>: cause\n⬆️\n<class 'Y'>: wrapper\n\n(Refer to the full stack trace …)".
_NEXT_STEPS = re.compile(r"\s*Next steps:.*?(?=\n## Exception summary|\Z)", re.S)
_SUMMARY_HEADER = re.compile(r"\n*## Exception summary\n*")
_CLASS = re.compile(r"<class '(?:[\w.]+\.)?(?P<name>\w+)'>: ")
_CHAIN_ARROW = re.compile(r"^\s*⬆️\s*$", re.M)
_STACK_HINT = re.compile(r"\n*\(Refer to the full stack trace above for more information\.\)\s*")
_STEP = re.compile(r"\s*This is step \d+/\d+ of exporting the model to ONNX\.?")


def describe(error: BaseException) -> ExportFailure:
    text = _ANSI.sub("", f"{type(error).__name__}: {error}")
    detail = cause_text(text)
    for pattern in _UNSUPPORTED_PATTERNS:
        match = pattern.search(text)
        if match:
            op = match["op"].replace(".default", "")
            return ExportFailure(
                summary=f"operator {op} has no ONNX translation",
                detail=detail,
                unsupported_op=op,
            )
    if _DATA_DEPENDENT.search(text):
        location = user_location(text)
        where = f" at {location}" if location else ""
        return ExportFailure(
            summary=f"data-dependent control flow{where}: the branch depends on tensor values",
            detail=detail,
            data_dependent=True,
            location=location,
        )
    return ExportFailure(summary=first_line(detail), detail=detail)


def cause_text(text: str) -> str:
    """An exporter's error in full, minus tracebacks and the advice torch.onnx appends.

    A wrapped dynamo error reads "<step that failed>: <cause>", the cause kept whole.
    """
    text = strip_tracebacks(_ANSI.sub("", text))
    if _SUMMARY_HEADER.search(text):
        head, cause = _SUMMARY_HEADER.split(text, maxsplit=1)
        head = _STEP.sub("", _NEXT_STEPS.sub("", head)).strip().rstrip(".")
        head = re.sub(r"^\w+Error: ", "", head)  # the wrapper's class adds nothing to its words
        cause = _STACK_HINT.sub("", _CHAIN_ARROW.sub("", _CLASS.sub(r"\g<name>: ", cause)))
        text = f"{head}: {cause.strip()}" if head else cause
    else:
        text = _NEXT_STEPS.sub("", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


_TRACEBACK_START = re.compile(
    r"^(Traceback \(most recent call last\):|Exception raised from .*|Original traceback:)\s*$"
)


def strip_tracebacks(text: str) -> str:
    """Drop Python and C++ stack traces: the header line and the indented frames below it."""
    kept: list[str] = []
    skipping = False
    for line in text.splitlines():
        if _TRACEBACK_START.match(line.strip()):
            skipping = True
            continue
        if skipping and (
            not line.strip() or line.startswith((" ", "\t", "frame #")) or line.strip() == "^"
        ):
            continue
        skipping = False
        kept.append(line)
    return "\n".join(kept)


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
