"""Checking data against input specs: dtype, rank and static dims, never reshaped or cast."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from onnxproof.errors import DataError
from onnxproof.specs import TensorSpec

#: Arrays by input name, first axis = samples.
Chunk = dict[str, np.ndarray]


def check_shape(shape: tuple[int, ...], dtype: str, spec: TensorSpec, where: str) -> bool:
    """Raise DataError unless (shape, dtype) fits the spec; True for a batch, False a sample."""
    if dtype != spec.dtype:
        hint = f"convert it with .astype(np.{spec.dtype})"
        if spec.dtype == "bfloat16":
            hint = "convert it with .astype(ml_dtypes.bfloat16)"
        raise DataError(
            f"{where}: input {spec.name!r} holds {dtype} data, but the model expects {spec}",
            hint=f"{hint} before saving; onnxproof never casts data itself",
        )
    rank = len(spec.dims)
    if len(shape) not in (rank, rank - 1):
        raise DataError(
            f"{where}: input {spec.name!r} has shape {list(shape)} (rank {len(shape)}), but the "
            f"model expects {spec}: rank {rank} for a batch or {rank - 1} for one sample",
            hint="the first axis is the sample axis; reshape the data to match the spec",
        )
    batch = len(shape) == rank
    dims = spec.dims[1:]
    for axis, (size, dim) in enumerate(zip(shape[1:] if batch else shape, dims, strict=True)):
        if not dim.dynamic and size != dim.size:
            kind = "a batch" if batch else "one sample"
            raise DataError(
                f"{where}: input {spec.name!r} has shape {list(shape)} ({kind}), but the model "
                f"expects {spec}: axis {axis + 1} is {size}, not {dim.size}",
                hint="only dynamic (named) dims may vary; resize the data or re-export the model "
                "with that dim dynamic",
            )
    return batch


def check_names(keys: Iterable[Any], specs: tuple[TensorSpec, ...], where: str) -> None:
    """DataError unless ``keys`` are exactly the inputs' names."""
    names, keys = [s.name for s in specs], list(keys)
    missing = [n for n in names if n not in keys]
    unexpected = sorted(str(k) for k in keys if k not in names)
    if missing or unexpected:
        raise DataError(
            f"{where} does not match the model's inputs: missing {missing}, unexpected "
            f"{unexpected}; the model expects {model_text(specs)}",
            hint="name each array after its input (np.savez(path, x=..., mask=...)); "
            "drop labels and other extras",
        )


def model_text(specs: tuple[TensorSpec, ...]) -> str:
    """The inputs as specs, for messages."""
    return ", ".join(str(s) for s in specs)
