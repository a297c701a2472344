"""Parquet data: one column per model input, one row per sample, read a row group at a time.

A column holds scalars (an input of rank 1: the batch axis alone), nested lists of a fixed
length per row (``list<list<float>>`` for a ``[batch, 3, 4]`` input), or Arrow's fixed-shape
tensor extension type. Lists must be rectangular within a row group; values are never cast, so
the column's value type must be the input's dtype. pyarrow is optional: it comes with
``pip install 'onnxproof[ray]'``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from onnxproof.errors import DataError

INSTALL = "pip install 'onnxproof[ray]' (or pip install pyarrow)"


def _pq() -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise DataError(
            "reading .parquet data needs pyarrow, which is not installed",
            hint=f"install it with: {INSTALL}; or save the data as .npz",
        ) from exc
    return pq


def _open(path: Path) -> Any:
    try:
        return _pq().ParquetFile(path)
    except DataError:
        raise
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError on a damaged footer
        raise DataError(
            f"{path} is not a readable Parquet file: {type(exc).__name__}: {exc}",
            hint="write it again with pyarrow.parquet.write_table",
        ) from exc


def parquet_rows(path: Path, names: tuple[str, ...]) -> int:
    """Rows in the file, from its footer; the columns must be the model's inputs."""
    pf = _open(path)
    columns = list(pf.schema_arrow.names)
    missing = [n for n in names if n not in columns]
    if missing:
        raise DataError(
            f"{path} has no column for input(s) {missing}; its columns are {columns}",
            hint="write one column per model input, named after it",
        )
    return int(pf.metadata.num_rows)


def parquet_sample_shape(path: Path, names: tuple[str, ...]) -> tuple[tuple[int, ...], ...]:
    """Each input's sample shape, from the file's first row (the footer does not hold it)."""
    pf = _open(path)
    if not pf.metadata.num_rows:
        return tuple(() for _ in names)
    with _damage(path):
        first = next(pf.iter_batches(batch_size=1, columns=list(names)))
    return tuple(column_array(first.column(n), f"{path} column {n!r}").shape[1:] for n in names)


def parquet_chunks(
    path: Path, names: tuple[str, ...], start: int = 0, stop: int | None = None
) -> Iterator[dict[str, np.ndarray]]:
    """Rows ``start:stop`` as arrays (name -> array, first axis = samples), a row group at a
    time; row groups wholly outside the range are not read."""
    pf = _open(path)
    stop = pf.metadata.num_rows if stop is None else stop
    first = 0
    for group in range(pf.metadata.num_row_groups):
        rows = pf.metadata.row_group(group).num_rows
        lo, hi = max(start, first), min(stop, first + rows)
        if lo < hi:
            with _damage(path):
                table = pf.read_row_group(group, columns=list(names))
            table = table.slice(lo - first, hi - lo)
            yield {n: column_array(table.column(n), f"{path} column {n!r}") for n in names}
        first += rows
        if first >= stop:
            return


@contextlib.contextmanager
def _damage(path: Path) -> Iterator[None]:
    """A data page that does not decode (the footer did) is damage in the file: a DataError."""
    try:
        yield
    except DataError:
        raise
    except Exception as exc:
        raise DataError(
            f"{path} is damaged: reading its rows failed: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200] if str(exc) else ''}",
            hint="write it again with pyarrow.parquet.write_table",
        ) from exc


def column_array(column: Any, where: str) -> np.ndarray:
    """One Arrow column as an ndarray: scalars, rectangular nested lists or fixed-shape tensors."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if isinstance(array.type, pa.FixedShapeTensorType):
        return np.asarray(array.to_numpy_ndarray())
    shape = [len(array)]
    while (
        pa.types.is_list(array.type)
        or pa.types.is_large_list(array.type)
        or (pa.types.is_fixed_size_list(array.type))
    ):
        if array.null_count:
            raise DataError(f"{where} holds null values", hint="every sample needs a value")
        lengths = np.unique(np.asarray(pc.list_value_length(array)))
        if len(lengths) > 1:
            raise DataError(
                f"{where} holds lists of different lengths {lengths[:5].tolist()} in one row "
                "group: samples of different shapes",
                hint="write one file per sample shape, or pad the samples to one shape",
            )
        shape.append(int(lengths[0]) if len(lengths) else 0)
        array = array.flatten()
    if array.null_count:
        raise DataError(f"{where} holds null values", hint="every sample needs a value")
    values = array.to_numpy(zero_copy_only=False)
    if values.dtype.hasobject:
        raise DataError(f"{where} holds {array.type} values, not numbers")
    return np.asarray(values).reshape(shape)
