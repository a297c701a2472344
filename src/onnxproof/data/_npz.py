""".npz files read without loading them whole: every member's header checked first, then the
members walked in step, a few rows at a time (an uncompressed member mapped at its offset inside
the zip, a compressed one decompressed as needed).
"""

from __future__ import annotations

import lzma
import math
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from onnxproof.data._validate import Chunk, check_names, check_shape
from onnxproof.errors import DataError
from onnxproof.specs import MAX_ELEMENTS, TensorSpec

#: What zipfile and its decompressors raise on a damaged archive: a bad or truncated deflate,
#: bzip2 or lzma stream (zlib.error, OSError, EOFError, LZMAError), a CRC mismatch (BadZipFile),
#: an unknown compression method (NotImplementedError), an encrypted member (RuntimeError).
_ZIP_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    lzma.LZMAError,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    struct.error,
)


@dataclass(frozen=True, kw_only=True)
class _Member:
    """One .npz member: its input, header, whether it is a batch, and where its data starts."""

    spec: TensorSpec
    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran: bool
    batch: bool
    offset: int | None  # byte offset of the data in the zip file when stored uncompressed


def npz_plan(
    path: Path, specs: tuple[TensorSpec, ...], where: str
) -> tuple[int, dict[str, _Member]]:
    """Read and check every member's header without reading its data."""
    try:
        with zipfile.ZipFile(path) as zf, open(path, "rb") as raw:
            infos = {i.filename.removesuffix(".npy"): i for i in zf.infolist() if not i.is_dir()}
            check_names(infos, specs, where)
            members = {s.name: _npz_member(zf, raw, infos[s.name], s, where) for s in specs}
    except _ZIP_ERRORS as exc:
        raise DataError(
            f"{where} is not a readable .npz file: {first_line(exc)}",
            hint="write it again with np.savez or np.savez_compressed",
        ) from exc
    totals = {n: m.shape[0] if m.batch else 1 for n, m in members.items()}
    if len(set(totals.values())) > 1:
        raise DataError(f"{where}: inputs hold different numbers of samples {totals}")
    return next(iter(totals.values()), 0), members


def _npz_member(
    zf: zipfile.ZipFile, raw: Any, info: zipfile.ZipInfo, spec: TensorSpec, where: str
) -> _Member:
    with zf.open(info) as f:
        shape, fortran, dtype = _read_npy_header(f)
    if dtype.hasobject:
        raise DataError(f"{where}: member {info.filename!r} holds Python objects, not numbers")
    batch = check_shape(shape, dtype.name, spec, where)
    check_sample_size(shape[1:] if batch else shape, spec, f"{where}: member {info.filename!r}")
    # The header's shape is only a claim: a member whose data is shorter would be mapped past
    # the end of the file or allocated whole before the short read shows.
    data_bytes = math.prod(shape) * dtype.itemsize
    if data_bytes > info.file_size:
        raise DataError(
            f"{where}: member {info.filename!r} claims shape {list(shape)} ({data_bytes:,} bytes "
            f"of {dtype.name}) but holds only {info.file_size:,} bytes: the file is damaged",
            hint="write it again with np.savez or np.savez_compressed",
        )
    offset = None
    if info.compress_type == zipfile.ZIP_STORED and not info.flag_bits & 0x1:
        # Stored bytes are the .npy file verbatim: its data sits after the local zip header
        # (whose extra field may differ from the central directory's) and the .npy header.
        raw.seek(info.header_offset)
        header = struct.unpack("<4s2B4HL2L2H", raw.read(30))
        raw.seek(info.header_offset + 30 + header[10] + header[11])
        _read_npy_header(raw)
        offset = raw.tell()
        if offset + data_bytes > raw.seek(0, 2):  # the central directory's size may lie too
            raise DataError(
                f"{where}: member {info.filename!r} claims shape {list(shape)}, which runs past "
                "the end of the file: the file is truncated or damaged",
                hint="write it again with np.savez or np.savez_compressed",
            )
    return _Member(
        spec=spec, info=info, shape=shape, dtype=dtype, fortran=fortran, batch=batch, offset=offset
    )


def _read_npy_header(f: Any) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f)  # type: ignore[no-any-return]
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(f)  # type: ignore[no-any-return]
    raise ValueError(f".npy format version {version} is not supported (1.0 and 2.0 are)")


def npz_chunks(path: Path, members: dict[str, _Member], rows: int) -> Iterator[Chunk]:
    """Walk all members in step, ``rows`` samples at a time."""
    try:
        with zipfile.ZipFile(path) as zf:
            streams = {name: _member_rows(path, zf, m, rows) for name, m in members.items()}
            while True:
                chunk = {name: next(stream, None) for name, stream in streams.items()}
                if any(v is None for v in chunk.values()):
                    return
                yield {k: v for k, v in chunk.items() if v is not None}
    except _ZIP_ERRORS as exc:  # damage past the headers shows only while decompressing
        raise DataError(
            f"{path} is damaged: reading its arrays failed: {first_line(exc)}",
            hint="write it again with np.savez or np.savez_compressed",
        ) from exc


def _member_rows(path: Path, zf: zipfile.ZipFile, m: _Member, rows: int) -> Iterator[np.ndarray]:
    if m.batch and m.offset is None and not m.fortran:  # compressed: decompress rows as needed
        with zf.open(m.info) as f:
            _read_npy_header(f)
            row_bytes = m.dtype.itemsize * math.prod(m.shape[1:])
            for start in range(0, m.shape[0], rows):
                n = min(rows, m.shape[0] - start)
                buffer = f.read(n * row_bytes)
                if len(buffer) != n * row_bytes:
                    raise DataError(f"{path}: member {m.info.filename!r} is truncated")
                yield np.frombuffer(buffer, dtype=m.dtype).reshape((n, *m.shape[1:]))
        return
    data: np.ndarray
    if m.offset is not None and 0 not in m.shape:  # np.memmap cannot map zero bytes
        order: Literal["C", "F"] = "F" if m.fortran else "C"
        data = np.memmap(path, m.dtype, "r", offset=m.offset, shape=m.shape, order=order)
    else:  # one sample, an empty array, or compressed Fortran order (rows not contiguous)
        with zf.open(m.info) as f:
            data = np.lib.format.read_array(f, allow_pickle=False)
    if not m.batch:
        yield data[np.newaxis]
        return
    for start in range(0, m.shape[0], rows):
        yield data[start : start + rows]


def first_line(exc: BaseException) -> str:
    """``Type: first line`` of an exception, never empty (some carry no message at all)."""
    name = type(exc).__name__
    if name == "error":  # zlib.error and its kin say nothing without their module
        name = f"{type(exc).__module__}.error"
    lines = str(exc).strip().splitlines()
    return f"{name}: {lines[0][:200]}" if lines else name


def check_sample_size(shape: tuple[int, ...], spec: TensorSpec, where: str) -> None:
    if math.prod(shape) > MAX_ELEMENTS:
        raise DataError(
            f"{where}: one sample of input {spec.name!r} has shape {list(shape)}, more than the "
            f"{MAX_ELEMENTS:,} values onnxproof accepts for one input",
            hint="check the file; a header this large is usually damage, not data",
        )
