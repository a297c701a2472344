"""``optimize``: the reference (eager PyTorch, or the float file itself), the samples kept apart,
then ``optimizing.optimize_file``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from onnxproof.errors import UsageError
from onnxproof.optimizing import OptimizeOptions, Samples
from onnxproof.results import OptimizeReport
from onnxproof.specs import TensorSpec


def optimize(
    model: Any = None,
    onnx_path: str | Path | None = None,
    *,
    inputs: Sequence[str] | None = None,
    weights: str | Path | None = None,
    data: Any = None,
    calib_data: Any = None,
    batch_size: int = 32,
    max_samples: int | None = None,
    image_spec: str | None = None,
    options: OptimizeOptions | None = None,
) -> OptimizeReport:
    """Variants of the float file ``onnx_path`` (``options.variants``), each verified against
    ``model`` in eager PyTorch — or, without a model, against the float file on ort-cpu — on
    evaluation samples it was not calibrated on; the passing ones written to
    ``options.output_dir``. ``data``/``calib_data`` take what ``run``'s ``data`` takes."""
    from onnxproof._paths import file_problem
    from onnxproof.optimizing import check_options, optimize_file

    options = options or OptimizeOptions()
    check_options(options)
    if onnx_path is None:
        raise UsageError("optimize needs the float ONNX file", hint="pass the .onnx file")
    problem = file_problem(Path(onnx_path), "ONNX file")
    if problem is not None:
        raise UsageError(problem, hint="pass the float32 .onnx file to optimize")
    path = str(onnx_path)
    loaded, specs, names, outputs = _loaded(model, path, inputs, weights)
    read = dict(batch_size=batch_size, max_samples=max_samples, image_spec=image_spec)
    samples = _samples(data, calib_data, specs, read, options.seed)
    fresh = loaded is not None and loaded.built_here and weights is None
    with _reference(loaded, path, names, outputs) as (reference, label):
        report = optimize_file(
            path,
            reference,
            specs,
            samples,
            options,
            model=loaded.reference if loaded is not None else None,
            reference_label=label,
            fresh_weights=fresh,
        )
    return report


def _loaded(
    model: Any, path: str, inputs: Sequence[str] | None, weights: str | Path | None
) -> tuple[Any, tuple[TensorSpec, ...], tuple[str, ...], tuple[str, ...]]:
    """The model (None without one), the input specs, and the file's input and output names;
    the specs must name the file's inputs."""
    loaded = None
    if model is not None:
        from onnxproof.pipeline._context import prepare

        loaded, specs = prepare(model, None, inputs, weights)
    else:
        from onnxproof.pipeline._bench import _specs_of_file

        specs = _specs_of_file(path, inputs)
    names, outputs = _io_names(path)
    if tuple(s.name for s in specs) != names:
        raise UsageError(
            f"the input specs name {[s.name for s in specs]} but {path} has inputs {list(names)}",
            hint="give one --input per ONNX input, named as in the file, in forward order",
        )
    return loaded, specs, names, outputs


@contextlib.contextmanager
def _reference(
    loaded: Any, path: str, names: tuple[str, ...], outputs: tuple[str, ...]
) -> Iterator[tuple[Any, str]]:
    from onnxproof import runtimes
    from onnxproof.pipeline._export import eval_mode_kept

    if loaded is None:
        with runtimes.get("ort-cpu").load(path) as session:
            yield session, f"{Path(path).name} (float32) on ort-cpu: no model given"
        return
    runtime = runtimes.get("torch", module=loaded.module, input_names=names, output_names=outputs)
    with eval_mode_kept(loaded.module), runtime.load(path) as session:
        yield session, f"{loaded.reference} in eager PyTorch (eval mode)"


def _io_names(path: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    from onnxproof.runtimes._base import onnx_signature

    signature = onnx_signature(path)
    return signature.inputs, signature.outputs


def _samples(
    data: Any,
    calib_data: Any,
    specs: tuple[TensorSpec, ...],
    read: dict[str, Any],
    seed: int,
) -> Samples:
    from onnxproof.optimizing import apart, split, synthetic

    if data is None:
        if calib_data is not None:
            raise UsageError(
                "--calib-data needs --data to evaluate on",
                hint="give --data too (calibration and evaluation are kept apart)",
            )
        return synthetic(specs, seed)
    batches, source = _batches(data, specs, read)
    if calib_data is None:
        return split(batches, source, read["batch_size"])
    if isinstance(data, str | Path) and isinstance(calib_data, str | Path):
        if Path(data).resolve() == Path(calib_data).resolve():
            raise UsageError(
                f"--calib-data and --data are the same ({data}): every variant would be judged "
                "on the samples it was calibrated on",
                hint="give separate files, or leave --calib-data out to split --data in two",
            )
    calibration, calib_source = _batches(calib_data, specs, read)
    return apart(calibration, batches, calib_source, source)


def _batches(
    data: Any, specs: tuple[TensorSpec, ...], read: dict[str, Any]
) -> tuple[Iterable[dict[str, np.ndarray]], str]:
    from onnxproof.data.files import ImageSpec, iter_batches, open_data

    if isinstance(data, str | Path):
        image_spec = ImageSpec.parse(read["image_spec"]) if read["image_spec"] else None
        described, batches = open_data(
            data,
            specs,
            batch_size=read["batch_size"],
            max_samples=read["max_samples"],
            image_spec=image_spec,
        )
        return list(batches), described.description
    batches = iter_batches(
        data, specs, batch_size=read["batch_size"], max_samples=read["max_samples"]
    )
    return list(batches), f"{type(data).__name__} (Python iterable)"
