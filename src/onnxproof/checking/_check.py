"""Run onnx.checker (full_check) and strict shape inference; failures name the node. No lint:
the findings are the linting stage's, which reads this stage's results."""

from __future__ import annotations

import logging
from pathlib import Path

import onnx
from google.protobuf.message import Message

from onnxproof._paths import file_problem
from onnxproof.checking._info import model_info
from onnxproof.errors import UsageError
from onnxproof.results import CheckReport

log = logging.getLogger(__name__)


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
    if checker_error is None:
        checker_error = beyond_checker(model, path)
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


def beyond_checker(model: onnx.ModelProto, path: Path) -> str | None:
    """What onnx.checker lets through that no runtime loads: a graph without outputs, an opset
    newer than this onnx knows, external data shorter than its tensors."""
    if not model.graph.output:
        return "the graph has no outputs: there is nothing to run"
    known = onnx.defs.onnx_opset_version()
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx") and opset.version > known:
            return (
                f"opset {opset.version} of ai.onnx is newer than any this onnx "
                f"{onnx.__version__} knows (up to {known}): no runtime here implements it"
            )
    return _short_external_data(model, path.parent)


def _short_external_data(model: onnx.ModelProto, folder: Path) -> str | None:
    """The first initializer whose external bytes run past the end of their file."""
    from onnx.external_data_helper import ExternalDataInfo, uses_external_data

    for tensor in model.graph.initializer:
        if not uses_external_data(tensor):
            continue
        info = ExternalDataInfo(tensor)
        target = folder / info.location
        if not target.is_file():
            continue  # a missing file is the checker's to report
        need = info.length
        if need is None:
            itemsize = _itemsize(tensor.data_type)
            if itemsize is None:
                continue
            count = 1
            for dim in tensor.dims:
                count *= dim
            need = count * itemsize
        have = target.stat().st_size
        offset = info.offset or 0
        if offset + need > have:
            return (
                f"initializer {tensor.name!r} needs {need:,} bytes at offset {offset:,} of "
                f"{info.location!r}, which holds {have:,}: the data file is truncated or not "
                "this model's"
            )
    return None


def _itemsize(data_type: int) -> int | None:
    try:
        return int(onnx.helper.tensor_dtype_to_np_dtype(data_type).itemsize)
    except Exception:  # strings and types numpy has no width for
        return None


def read_model(path: str | Path) -> onnx.ModelProto:
    """The ModelProto in ``path``, without its external data.

    Anything that is not an ONNX model is an UsageError: a missing file, zero bytes, bytes
    that do not parse as a ModelProto, and bytes that parse as an empty one (protobuf reads
    nothing as a message with every field unset; it has no graph and no IR version).
    """
    hint = "pass a .onnx file written by an exporter"
    path = Path(path)
    problem = file_problem(path, "ONNX file")
    if problem is not None:
        raise UsageError(problem, hint="check the path")
    try:
        size = path.stat().st_size
        model = onnx.load(str(path), load_external_data=False) if size else None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}", hint=hint) from exc
    except Exception as exc:  # DecodeError, or onnx's own parse errors for text formats
        reason = f"not a protobuf ModelProto: {type(exc).__name__}: {str(exc)[:200]}"
        raise UsageError(f"{path} is not an ONNX model ({reason})", hint=hint) from exc
    if model is None:
        raise UsageError(f"{path} is not an ONNX model (zero bytes)", hint=hint)
    if not model.HasField("graph") and not model.ir_version:
        raise UsageError(
            f"{path} is not an ONNX model (it parses as an empty ModelProto: no graph, no IR version)",
            hint=hint,
        )
    repaired = _decode_text(model)
    if repaired:
        log.info("%s: %d name(s) or string(s) are not UTF-8; read with \\x escapes", path, repaired)
    return model


def _decode_text(message: Message) -> int:
    """Make every string field text; returns how many were not.

    ONNX string fields are proto2 ``string``: protobuf does not validate them, and hands back a
    field that is not valid UTF-8 as ``bytes``. Everything downstream (findings, reports, JSON)
    expects ``str``, so such a field is decoded once here, its bad bytes kept as ``\\xNN``
    escapes, which keeps distinct names distinct.
    """
    repaired = 0
    for field, value in message.ListFields():
        if field.type == field.TYPE_MESSAGE:
            for item in value if field.is_repeated else (value,):
                repaired += _decode_text(item)
        elif field.type == field.TYPE_STRING:
            if field.is_repeated:
                raw = [v for v in value if isinstance(v, bytes)]
                if raw:
                    value[:] = [_text(v) for v in value]
                    repaired += len(raw)
            elif isinstance(value, bytes):
                setattr(message, field.name, _text(value))
                repaired += 1
    return repaired


def _text(value: str | bytes) -> str:
    return value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else value


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
            (f"{name or '(unnamed)'} ({op})" for op, name in op_types.items() if op and op in text),
            None,
        )
    where = f"node {node}: " if node else ""
    return f"{where}{type(exc).__name__}: {short}"
