"""Run onnx.checker (full_check) and strict shape inference; failures name the node. No lint:
the findings are the linting stage's, which reads this stage's results."""

from __future__ import annotations

from pathlib import Path

import onnx

from onnxproof.checking._info import model_info
from onnxproof.errors import UsageError
from onnxproof.results import CheckReport


def read_model(path: str | Path) -> onnx.ModelProto:
    """The graph of an ONNX file, without its external data. An unreadable file is a usage
    error naming what the file is instead."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"ONNX file {path} does not exist", hint="check the path")
    try:
        return onnx.load(str(path), load_external_data=False)
    except Exception as exc:
        raise UsageError(
            f"{path} is not a readable ONNX model: {type(exc).__name__}: {exc}",
            hint="pass a .onnx file written by an exporter",
        ) from exc


def check_model(path: str | Path, model: onnx.ModelProto | None = None) -> CheckReport:
    """onnx.checker (full) and strict shape inference over one file, with its model info.

    ``model`` is the file's graph when the caller has read it already (``read_model``).
    """
    path = Path(path)
    if model is None:
        model = read_model(path)
    checker_error = None
    try:
        # The path form follows external data and handles models over 2 GB.
        onnx.checker.check_model(str(path), full_check=True)
    except Exception as exc:  # ValidationError, InferenceError, and C++ errors alike
        checker_error = _explain(model, exc)
    inference_error = None
    inference_passed: bool | None = None
    if checker_error is None:
        # check_model(full_check=True) runs strict shape inference itself: it passed too.
        inference_passed = True
    else:
        try:
            onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
            inference_passed = True
        except Exception as exc:
            inference_passed = False
            inference_error = _explain(model, exc)
    return CheckReport(
        path=str(path),
        checker_passed=checker_error is None,
        checker_error=checker_error,
        shape_inference_passed=inference_passed,
        shape_inference_error=inference_error,
        info=model_info(model, path),
    )


def _explain(model: onnx.ModelProto, exc: BaseException) -> str:
    """The checker's message, first lines only, with the node named when it can be found."""
    text = str(exc).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    short = " ".join(lines[:3])[:500]
    named = {n.name for n in model.graph.node if n.name}
    node = next((n for n in named if n and n in text), None)
    if node is None:
        op_types = {n.op_type: n.name for n in model.graph.node}
        node = next(
            (f"{name or '(unnamed)'} ({op})" for op, name in op_types.items() if op in text), None
        )
    where = f"node {node}: " if node else ""
    return f"{where}{type(exc).__name__}: {short}"
