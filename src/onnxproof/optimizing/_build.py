"""Build each variant with the field's own tools. The only module that imports onnxruntime's
optimizer and quantizer, onnxslim and onnxconverter_common.

- ``ort-basic`` / ``ort-extended`` / ``ort-all``: ONNX Runtime's offline graph optimization at
  that level, saved through ``SessionOptions.optimized_model_filepath`` (``ort-all`` adds
  layout transforms for the CPU it ran on: deploy it on that kind of machine only).
- ``slim``: onnxslim (constant folding, dead-node and redundancy removal).
- ``fp16``: ``onnxconverter_common.float16`` with ``keep_io_types=True``; the ops and nodes of
  ``_fp16.block_lists`` stay in float32.
- ``int8-dynamic``: ``quantize_dynamic`` (weights int8, activations quantized at run time).
- ``int8-static``: ``quantize_static`` in QDQ format, per-channel weights, activations from a
  calibration pass (MinMax, Entropy or Percentile) over the calibration data.

Both quantizers read the output of ``quant_pre_process`` (symbolic shape inference and ONNX
Runtime's basic optimizations), as ONNX Runtime's documentation recommends.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

log = logging.getLogger(__name__)

#: Variant name → how it is made. The order is the order of the report's table.
VARIANTS: dict[str, str] = {
    "ort-basic": "ONNX Runtime offline graph optimization, basic level",
    "ort-extended": "ONNX Runtime offline graph optimization, extended level (fusions)",
    "ort-all": "ONNX Runtime offline graph optimization, all levels (CPU-specific layout)",
    "slim": "onnxslim",
    "fp16": "onnxconverter_common float16, I/O kept float32, precision-sensitive ops in fp32",
    "int8-dynamic": "onnxruntime quantize_dynamic, int8 weights",
    "int8-static": "onnxruntime quantize_static, QDQ, per-channel, calibrated",
}
#: Variants whose nodes can be kept out of the lower precision (a retry after a failed gate).
EXCLUDABLE = ("fp16", "int8-dynamic", "int8-static")
CALIBRATION_METHODS = ("minmax", "entropy", "percentile")


@dataclass(frozen=True)
class Built:
    """A variant on disk and the float model its node names refer to (for drift analysis)."""

    path: Path
    #: The float model the variant was made from (``quant_pre_process``'s output for int8).
    float_path: Path
    notes: tuple[str, ...] = ()


def build(
    name: str,
    source: Path,
    scratch: Path,
    *,
    calibration: Sequence[dict[str, np.ndarray]] = (),
    method: str = "minmax",
    exclude: Sequence[str] = (),
    fp16_blocks: bool = True,
    tag: str = "",
) -> Built:
    """Make variant ``name`` of ``source`` in ``scratch``; raises what the tool raised."""
    target = scratch / f"{name}{tag}.onnx"
    if name.startswith("ort-"):
        _ort_optimized(source, target, name.removeprefix("ort-"))
        return Built(target, source)
    if name == "slim":
        import onnxslim

        # onnxslim prints a summary table; the library never prints (the CLI owns stdout).
        with contextlib.redirect_stdout(io.StringIO()):
            onnxslim.slim(str(source), output_model=str(target))
        return Built(target, source)
    if name == "fp16":
        return _fp16(source, target, exclude, fp16_blocks)
    with _quantizer_logs():
        return _quantized(name, source, target, scratch, calibration, method, exclude)


@contextlib.contextmanager
def _quantizer_logs() -> Iterator[None]:
    """ONNX Runtime's quantizer logs through the root logger (warnings such as a rank-1 weight
    left per-tensor); they go to this module's log at info level, not to the user's terminal."""

    def demote(record: logging.LogRecord) -> bool:
        log.info("onnxruntime.quantization: %s", record.getMessage())
        return False

    root = logging.getLogger()
    root.addFilter(demote)
    try:
        yield
    finally:
        root.removeFilter(demote)


def _quantized(
    name: str,
    source: Path,
    target: Path,
    scratch: Path,
    calibration: Sequence[dict[str, np.ndarray]],
    method: str,
    exclude: Sequence[str],
) -> Built:
    pre, notes = _preprocessed(source, scratch)
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if name == "int8-dynamic":
        quantize_dynamic(
            pre,
            target,
            weight_type=QuantType.QInt8,
            # Per-channel weights: one outlier row must not flatten the others to zero.
            per_channel=True,
            # ConvInteger has no int8-weight kernel on ONNX Runtime CPU; dynamic quantization
            # is for MatMul-heavy models (transformers, RNNs): convolutions stay float.
            op_types_to_quantize=["MatMul", "Gemm", "Attention", "LSTM", "GRU"],
            # The dynamic quantizer first rewrites a Gemm as MatMul + Add named
            # '<gemm>_MatMul' / '<gemm>_Add': an excluded Gemm must be named both ways.
            nodes_to_exclude=[*exclude, *(f"{n}_MatMul" for n in exclude)],
        )
        return Built(target, pre, notes)
    if name == "int8-static":
        _static(pre, target, calibration, method, exclude)
        return Built(target, pre, notes)
    raise ValueError(f"unknown variant {name!r}")


def _ort_optimized(source: Path, target: Path, level: str) -> None:
    import onnxruntime as ort

    levels = {
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }
    options = ort.SessionOptions()
    options.graph_optimization_level = levels[level]
    options.optimized_model_filepath = str(target)
    options.log_severity_level = 3
    ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])


def _fp16(source: Path, target: Path, exclude: Sequence[str], blocks: bool) -> Built:
    from onnxconverter_common import float16

    from onnxproof.optimizing._fp16 import block_lists, retarget_casts

    model = onnx.load(str(source))
    ops, nodes = block_lists(model) if blocks else ((), ())
    # The converter warns once per weight it clips to float16's range: counted, not printed.
    with warnings.catch_warnings(record=True) as clipped:
        warnings.simplefilter("always")
        converted = float16.convert_float_to_float16(
            model,
            keep_io_types=True,
            op_block_list=[*float16.DEFAULT_OP_BLOCK_LIST, *ops],
            node_block_list=[*nodes, *exclude],
        )
    retargeted = retarget_casts(converted)
    onnx.save(converted, str(target))
    notes = []
    if retargeted:
        notes.append(f"{retargeted} Cast(s) to float32 the converter left behind now cast to fp16")
    if nodes:
        notes.append(f"{len(nodes)} node(s) of hand-written normalizations kept in fp32")
    if clipped:
        notes.append(f"{len(clipped)} weight value(s) clipped or rounded to float16's range")
    return Built(target, source, tuple(notes))


def _preprocessed(source: Path, scratch: Path) -> tuple[Path, tuple[str, ...]]:
    """``quant_pre_process`` once per run; symbolic shape inference is skipped where it fails."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    target = (scratch / "preprocessed.onnx").resolve()
    if target.exists():
        return target, ()
    source = source.resolve()
    # When symbolic shape inference is incomplete, ONNX Runtime saves the half-inferred model as
    # 'sym_shape_infer_temp.onnx' (and its weights as '<uuid>.data') into the current folder:
    # it runs from the scratch folder so that nothing lands in the user's.
    with _in_folder(scratch):
        try:
            quant_pre_process(str(source), str(target))
            return target, ()
        except Exception as exc:  # symbolic shape inference does not know every op
            log.info("quant_pre_process with symbolic shapes failed (%s); retrying without", exc)
            quant_pre_process(str(source), str(target), skip_symbolic_shape=True)
            return target, ("symbolic shape inference skipped in quant_pre_process",)


@contextlib.contextmanager
def _in_folder(folder: Path) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def _static(
    source: Path,
    target: Path,
    calibration: Sequence[dict[str, np.ndarray]],
    method: str,
    exclude: Sequence[str],
) -> None:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    methods = {
        "minmax": CalibrationMethod.MinMax,
        "entropy": CalibrationMethod.Entropy,
        "percentile": CalibrationMethod.Percentile,
    }
    graph = onnx.load(str(source), load_external_data=False).graph
    initializers = {t.name for t in graph.initializer}
    names = [v.name for v in graph.input if v.name not in initializers]

    class Reader(CalibrationDataReader):
        """The calibration batches, one per ``get_next``, fed by the model's input names."""

        def __init__(self) -> None:
            self._batches: Iterator[dict[str, np.ndarray]] = iter(
                [{n: b[n] for n in names} for b in calibration]
            )

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._batches, None)

    quantize_static(
        str(source),
        str(target),
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        # ONNX Runtime's recommended pairing on CPU: uint8 activations, int8 weights.
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=methods[method],
        nodes_to_exclude=list(exclude),
    )
