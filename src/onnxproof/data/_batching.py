"""Where batches start and end, one rule for the file reader and for the Ray shard plan, so the
two engines cut the same data into the same batches.

A batch holds ``batch_size`` samples (or the static axis 0 of the specs); it ends early when a
dynamic dim changes size between pieces (samples of two shapes cannot stack), and the cut stops
at ``max_samples``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable, Iterable, Iterator

from onnxproof.data._validate import model_text
from onnxproof.errors import DataError
from onnxproof.specs import TensorSpec

log = logging.getLogger(__name__)

#: One batch: (piece number, start, stop) for each run of samples it takes, in order.
Segments = list[tuple[int, int, int]]


def batch_segments(
    pieces: Iterable[tuple[int, Hashable]],
    specs: tuple[TensorSpec, ...],
    *,
    batch_size: int,
    max_samples: int | None,
    where: str,
) -> Iterator[Segments]:
    """Cut pieces, each (sample count, shape key), into batches, read lazily: the next piece is
    taken only when the batch needs it. A static batch axis fixes the batch size and a batch
    left short is a DataError; no samples at all is a DataError too."""
    rows, fixed = batch_rows(specs, batch_size, max_samples)
    if fixed and rows != batch_size:
        log.info("batches have %d samples: the model's batch axis is static", rows)
    limit = math.inf if max_samples is None else max_samples
    pending: Segments = []
    shape: Hashable = None
    count = emitted = 0

    def checked() -> Segments:
        if fixed and count != rows:
            raise DataError(
                f"a batch of {count} samples is left over, but the model's batch axis is static "
                f"at {rows}: " + model_text(specs),
                hint=f"use a multiple of {rows} samples (or of --max-samples), or export the "
                "model with a dynamic batch dim",
            )
        return pending

    for index, (samples, key) in enumerate(pieces):
        start = 0
        while start < samples and emitted + count < limit:
            if pending and key != shape:
                yield checked()  # a dynamic dim changed size: samples of two shapes cannot stack
                emitted, pending, count = emitted + count, [], 0
            take = int(min(samples - start, rows - count, limit - emitted - count))
            pending.append((index, start, start + take))
            shape = key
            count, start = count + take, start + take
            if count == rows:
                yield checked()
                emitted, pending, count = emitted + count, [], 0
        if emitted + count >= limit:
            break
    if pending:
        yield checked()
    elif not emitted:
        raise no_samples(where)


def batch_rows(
    specs: tuple[TensorSpec, ...], batch_size: int, max_samples: int | None
) -> tuple[int, bool]:
    """Samples per batch, and whether that count is fixed by a static axis 0 in the specs."""
    if batch_size < 1:
        raise DataError(f"batch size {batch_size} is below 1")
    if max_samples is not None and max_samples < 1:
        raise DataError(
            f"max samples {max_samples} is below 1: there would be nothing to verify",
            hint="give --max-samples 1 or more, or leave it out to use every sample",
        )
    for spec in specs:
        if not spec.dims:
            raise DataError(
                f"input {spec} is a scalar: it has no batch axis to stream data along",
                hint="verify scalar-input models on synthetic data instead",
            )
    static = {s.dims[0].size for s in specs if not s.dims[0].dynamic}
    if len(static) > 1:
        raise DataError(
            f"inputs have different static batch sizes {sorted(static)}: " + model_text(specs),
            hint="export with a shared dynamic batch dim (e.g. batch) to verify on a dataset",
        )
    if static:
        return static.pop(), True
    return batch_size, False


def no_samples(where: str) -> DataError:
    """The error for a source that holds no samples at all."""
    return DataError(
        f"{where} holds no samples: there is nothing to verify",
        hint="give data with at least one sample, or leave the data out to verify on "
        "generated inputs",
    )
