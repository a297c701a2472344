"""The pipeline stays small steps: no function over 60 lines, no public one over 10 parameters.

Read from the source with ``ast``, so a step that grows past the limit fails here, not in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import onnxproof.pipeline

PIPELINE = Path(onnxproof.pipeline.__file__).parent
MAX_LINES, MAX_PUBLIC_PARAMETERS = 60, 10


def _functions() -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    found = []
    for path in sorted(PIPELINE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found.append((f"{path.name}:{node.lineno} {node.name}", node))
    return found


def test_no_pipeline_function_is_over_60_lines() -> None:
    functions = _functions()
    assert len(functions) > 20  # the files were found and read
    long = [
        f"{where} ({node.end_lineno - node.lineno + 1} lines)"
        for where, node in functions
        if node.end_lineno is not None and node.end_lineno - node.lineno + 1 > MAX_LINES
    ]
    assert not long, long


def test_no_public_pipeline_function_takes_over_10_parameters() -> None:
    wide = []
    for where, node in _functions():
        if node.name.startswith("_"):
            continue
        args = node.args
        count = len(args.posonlyargs) + len(args.args) + len(args.kwonlyargs)
        if count > MAX_PUBLIC_PARAMETERS:
            wide.append(f"{where} ({count} parameters)")
    assert not wide, wide
