"""Array data as shards with known sizes, planned into batches that can be read anywhere.

A distributed engine cannot stream one iterator: it needs to know, before anything runs, which
samples make each batch, so that workers read their own batches and every sample has its
global index. ``plan_shards`` reads only headers (.npy, .npz), footers and first rows (.parquet) and cuts
the dataset into the *same* batches ``files.open_data`` streams (same size, same boundaries, a
batch ended early where a dynamic dim changes between files), so the engines compare identical
batches. ``read_planned`` reads a run of consecutive planned batches, each file opened once.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from onnxproof.data._batching import batch_segments
from onnxproof.data._npz import npz_chunks, npz_plan
from onnxproof.data._validate import Chunk
from onnxproof.data.files import (
    ARRAY_SUFFIXES,
    _check_file,
    _npy_chunk,
    _parquet_chunks,
    folder_files,
)
from onnxproof.data.parquet import parquet_rows, parquet_sample_shape
from onnxproof.errors import DataError
from onnxproof.specs import TensorSpec

#: Rows read at a time from an .npz member while seeking a range (mapped members cost nothing).
_READ_ROWS = 4096


@dataclass(frozen=True, kw_only=True)
class Shard:
    """One data file: its sample count and, where the header tells, each input's sample shape."""

    path: str
    samples: int
    #: Per input, the shape of one sample (a Parquet file's: that of its first row).
    shape: tuple[tuple[int, ...], ...]


@dataclass(frozen=True, kw_only=True)
class Segment:
    """Samples ``start:stop`` of shard number ``shard``."""

    shard: int
    start: int
    stop: int


@dataclass(frozen=True, kw_only=True)
class PlannedBatch:
    batch_id: int
    #: Global index of the batch's first sample (its position in the whole dataset).
    first_index: int
    size: int
    segments: tuple[Segment, ...]


@dataclass(frozen=True, kw_only=True)
class ShardPlan:
    description: str
    shards: tuple[Shard, ...]
    batches: tuple[PlannedBatch, ...]

    @property
    def samples(self) -> int:
        return sum(b.size for b in self.batches)


def plan_shards(
    path: str | Path,
    specs: tuple[TensorSpec, ...],
    *,
    batch_size: int = 32,
    max_samples: int | None = None,
) -> ShardPlan:
    """Plan a .npy/.npz/.parquet file, or a folder of them, into batches (headers read only)."""
    path = Path(path)
    if path.is_dir():
        files = [p for p in folder_files(path) if p.suffix.lower() in ARRAY_SUFFIXES]
        if not files:
            raise DataError(
                f"folder {str(path)!r} holds no .npy, .npz or .parquet files",
                hint="a distributed engine reads array shards; use the local engine for images",
            )
    else:
        _check_file(path, "data path")
        if path.suffix.lower() not in ARRAY_SUFFIXES:
            raise DataError(
                f"data file {str(path)!r} cannot be sharded: only .npy, .npz and .parquet can",
                hint="convert the data to .npz shards, or use the local engine",
            )
        files = [path]
    shards = tuple(_shard(p, specs) for p in files)
    batches = _cut(shards, specs, batch_size, max_samples, str(path))
    used = sum(b.size for b in batches)
    description = (
        f"{path.name}{'/' if path.is_dir() else ''} ({len(shards)} shards, {used} samples)"
    )
    return ShardPlan(description=description, shards=shards, batches=batches)


def group_batches(plan: ShardPlan, tasks: int) -> list[tuple[int, ...]]:
    """Consecutive batch ids in about ``tasks`` groups, never across a shard start (a task
    then opens few files), so several workers share the work and a retry redoes little."""
    size = max(1, math.ceil(len(plan.batches) / max(1, tasks)))
    groups: list[tuple[int, ...]] = []
    current: list[int] = []
    for batch in plan.batches:
        new_shard = (
            current and batch.segments[0].shard != plan.batches[current[0]].segments[0].shard
        )
        if current and (len(current) >= size or new_shard):
            groups.append(tuple(current))
            current = []
        current.append(batch.batch_id)
    if current:
        groups.append(tuple(current))
    return groups


def read_planned(
    plan: ShardPlan, specs: tuple[TensorSpec, ...], batch_ids: Sequence[int]
) -> Iterator[tuple[PlannedBatch, Chunk]]:
    """The inputs of consecutive planned batches, in order (each a fresh array)."""
    batches = [plan.batches[i] for i in batch_ids]
    ranges: dict[int, tuple[int, int]] = {}
    for batch in batches:
        for seg in batch.segments:
            lo, hi = ranges.get(seg.shard, (seg.start, seg.stop))
            ranges[seg.shard] = (min(lo, seg.start), max(hi, seg.stop))
    stream = (
        chunk
        for shard, (lo, hi) in sorted(ranges.items())
        for chunk in _shard_rows(plan.shards[shard], specs, lo, hi)
    )
    pending: list[Chunk] = []
    have = 0
    for batch in batches:
        while have < batch.size:
            chunk = next(stream)
            pending.append(chunk)
            have += _rows(chunk)
        taken, rest, need = [], [], batch.size
        for chunk in pending:
            n = _rows(chunk)
            if need >= n:
                taken.append(chunk)
            else:
                if need:
                    taken.append({k: v[:need] for k, v in chunk.items()})
                rest.append({k: v[need:] for k, v in chunk.items()})
            need = max(0, need - n)
        pending, have = rest, have - batch.size
        try:
            arrays = {s.name: np.concatenate([c[s.name] for c in taken]) for s in specs}
        except ValueError as exc:  # a Parquet file whose later row groups change shape
            raise DataError(
                f"batch {batch.batch_id} holds samples of different shapes: {exc}",
                hint="write one Parquet file per sample shape, or use the local engine",
            ) from exc
        yield batch, arrays


# --- internals --------------------------------------------------------------------------------


def _rows(chunk: Chunk) -> int:
    return next(iter(chunk.values())).shape[0]


def _shard(path: Path, specs: tuple[TensorSpec, ...]) -> Shard:
    where, suffix = str(path), path.suffix.lower()
    if suffix == ".npz":
        total, members = npz_plan(path, specs, where)
        shape = tuple(
            members[s.name].shape[1:] if members[s.name].batch else members[s.name].shape
            for s in specs
        )
        return Shard(path=where, samples=total, shape=shape)
    if suffix == ".npy":
        chunk = _npy_chunk(path, specs, where)
        return Shard(path=where, samples=_rows(chunk), shape=(chunk[specs[0].name].shape[1:],))
    names = tuple(s.name for s in specs)
    rows = parquet_rows(path, names)
    return Shard(path=where, samples=rows, shape=parquet_sample_shape(path, names))


def _shard_rows(
    shard: Shard, specs: tuple[TensorSpec, ...], start: int, stop: int
) -> Iterator[Chunk]:
    """Samples ``start:stop`` of one shard, in pieces (copies, never views of a mapped file)."""
    path = Path(shard.path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        yield from _parquet_chunks(path, specs, start, stop)
        return
    if suffix == ".npy":
        chunk = _npy_chunk(path, specs, shard.path)
        yield {k: np.array(v[start:stop]) for k, v in chunk.items()}
        return
    members = npz_plan(path, specs, shard.path)[1]
    first = 0
    for chunk in npz_chunks(path, members, _READ_ROWS):
        n = _rows(chunk)
        lo, hi = max(start, first), min(stop, first + n)
        if lo < hi:
            yield {k: np.array(v[lo - first : hi - first]) for k, v in chunk.items()}
        first += n
        if first >= stop:
            return


def _cut(
    shards: tuple[Shard, ...],
    specs: tuple[TensorSpec, ...],
    batch_size: int,
    max_samples: int | None,
    where: str,
) -> tuple[PlannedBatch, ...]:
    """The batches the file reader makes from these shards (``batch_segments``), as segments."""
    pieces = ((shard.samples, shard.shape) for shard in shards)
    batches: list[PlannedBatch] = []
    first = 0
    cut = batch_segments(pieces, specs, batch_size=batch_size, max_samples=max_samples, where=where)
    for segments in cut:
        size = sum(stop - start for _, start, stop in segments)
        parts = tuple(Segment(shard=i, start=start, stop=stop) for i, start, stop in segments)
        batches.append(
            PlannedBatch(batch_id=len(batches), first_index=first, size=size, segments=parts)
        )
        first += size
    return tuple(batches)
