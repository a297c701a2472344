"""Representative data from files or iterables, streamed in batches with bounded memory.

Every source becomes a stream of *chunks* (name -> array, first axis = samples, already checked
against the specs), and one re-batcher cuts those into batches of ``batch_size``. Data is never
reshaped or cast: a name, dtype, rank or static dim that does not match the spec is a DataError.

Batch or sample (the rank rule): an array whose rank equals its spec's rank is a batch (first
axis = samples); one whose rank is one less is a single sample and gains a batch axis of 1.
Axis 0 of a spec is the batch axis: when it is static (``x:float32[1,3,224,224]``) every batch
has exactly that many samples, whatever ``batch_size`` says. A batch holds samples of one shape:
when a dynamic dim changes from one sample to the next the batch ends early.

Memory: ``.npy`` files are memory-mapped. ``.npz`` members cannot be mapped by NumPy, so an
uncompressed member (``np.savez``) is mapped here at its offset inside the zip, and a compressed
one (``np.savez_compressed``) is decompressed a batch at a time; only a Fortran-order compressed
member is read whole. ``.pt`` files are loaded with ``mmap=True`` when their format allows it.
Each yielded batch is a fresh array (a copy), never a view into a mapped file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from onnxproof._paths import file_problem
from onnxproof._warnings import warnings_logged
from onnxproof.data._batching import batch_rows, batch_segments, no_samples
from onnxproof.data._npz import check_sample_size, first_line, npz_chunks, npz_plan
from onnxproof.data._validate import Chunk, check_names, check_shape, model_text
from onnxproof.data.images import IMAGE_SUFFIXES, ImageSpec, image_loader
from onnxproof.data.parquet import parquet_chunks, parquet_rows
from onnxproof.errors import DataError
from onnxproof.specs import TensorSpec

log = logging.getLogger(__name__)

ARRAY_SUFFIXES = (".npy", ".npz", ".parquet")
SUPPORTED = (
    f".npz, .npy, .parquet, .pt/.pth, a folder of .npy/.npz/.parquet files or of images "
    f"{IMAGE_SUFFIXES}"
)


@dataclass(frozen=True, kw_only=True)
class DataSource:
    """What ``open_data`` opened: a one-line description, and the sample count if known."""

    description: str
    samples: int | None


def open_data(
    path: str | Path,
    specs: tuple[TensorSpec, ...],
    *,
    batch_size: int = 32,
    max_samples: int | None = None,
    image_spec: ImageSpec | None = None,
) -> tuple[DataSource, Iterator[dict[str, np.ndarray]]]:
    """Open a data file or folder; return its description and an iterator of batches.

    Headers (.npz, .npy), .pt contents and the image settings are checked here; files inside a
    folder are checked as they are read, so such errors surface while iterating.
    """
    path = Path(path)
    if not path.is_dir():
        _check_file(path, "data path")
    rows, _ = batch_rows(specs, batch_size, max_samples)
    suffix = path.suffix.lower()
    chunks: Iterable[Chunk]
    total: int | None
    if path.is_dir():
        source, chunks = _open_dir(path, specs, rows, image_spec)
    else:
        if suffix == ".npz":
            total, members = npz_plan(path, specs, str(path))
            chunks = npz_chunks(path, members, rows)
        elif suffix == ".npy":
            chunks = [_npy_chunk(path, specs, str(path))]
            total = _samples(chunks[0])
        elif suffix in (".pt", ".pth"):
            total, chunks = _open_pt(path, specs)
        elif suffix == ".parquet":
            total = parquet_rows(path, tuple(s.name for s in specs))
            chunks = _parquet_chunks(path, specs)
        else:
            raise DataError(
                f"data file {str(path)!r} has an unsupported format {suffix or '(none)'!r}",
                hint=f"supported: {SUPPORTED}",
            )
        if total == 0:
            raise no_samples(str(path))
        count = "unknown number of samples" if total is None else f"{total} samples"
        plural = "s" if len(specs) != 1 else ""
        source = DataSource(
            description=f"{path.name} ({len(specs)} input{plural}, {count})", samples=total
        )
    if max_samples is not None and (source.samples is None or source.samples > max_samples):
        used = max_samples if source.samples is not None else None
        source = DataSource(
            description=f"{source.description}, at most {max_samples} used", samples=used
        )
    log.info("data: %s", source.description)
    return source, _rebatch(
        chunks, specs, batch_size=batch_size, max_samples=max_samples, where=str(path)
    )


def probe(
    path: str | Path,
    specs: tuple[TensorSpec, ...],
    *,
    batch_size: int = 32,
    max_samples: int | None = None,
    image_spec: ImageSpec | None = None,
) -> DataSource:
    """Check a data path against the specs cheaply, before anything expensive (an export) runs.

    Opens the data as ``open_data`` does (path kind, format, headers, names, dtypes, ranks,
    static dims) and reads its first batch only, so an empty dataset or a damaged first file is
    a DataError now. Damage further in still surfaces while iterating.
    """
    source, batches = open_data(
        path, specs, batch_size=batch_size, max_samples=max_samples, image_spec=image_spec
    )
    try:
        next(batches)
    except StopIteration:  # _rebatch raises on an empty source; kept for safety
        raise no_samples(str(path)) from None
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()  # releases the open zip or mapped file now
    return source


def iter_batches(
    items: Iterable[Any],
    specs: tuple[TensorSpec, ...],
    *,
    batch_size: int = 32,
    max_samples: int | None = None,
) -> Iterator[dict[str, np.ndarray]]:
    """Batches from Python data: each item a dict (name -> array), a tuple/list in forward()
    order, or, for a single-input model, a bare array. Arrays may be NumPy arrays or tensors
    (anything with ``.detach().cpu().numpy()``), so a torch DataLoader works as is. Each item is
    a batch or a single sample by the rank rule (module docstring); batches are re-cut to
    ``batch_size``. Problems raise DataError while iterating, naming the item's index.
    """
    batch_rows(specs, batch_size, max_samples)
    chunks = (_item_chunk(item, specs, f"item {i}") for i, item in enumerate(items))
    return _rebatch(
        chunks, specs, batch_size=batch_size, max_samples=max_samples, where="the iterable"
    )


# --- checks ---------------------------------------------------------------------------------


def _check_file(path: Path, what: str) -> None:
    """A regular, non-empty file: never open a FIFO (it blocks) or a device (it never ends)."""
    problem = file_problem(path, what)
    if problem is not None:
        raise DataError(problem, hint=f"give one of: {SUPPORTED}")
    if path.stat().st_size == 0:
        raise DataError(
            f"{what} {str(path)!r} is empty (0 bytes)", hint=f"give one of: {SUPPORTED}"
        )


def _to_batch(value: Any, spec: TensorSpec, where: str) -> np.ndarray:
    array = _as_array(value, where)
    batch = check_shape(array.shape, array.dtype.name, spec, where)
    return array if batch else array[np.newaxis]


def _as_array(value: Any, where: str) -> np.ndarray:
    """NumPy view of an array or tensor. Tensors are duck-typed so torch is never imported."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        tensor = value.detach().cpu()
        layout = str(getattr(tensor, "layout", "torch.strided"))
        if layout != "torch.strided":
            raise DataError(
                f"{where}: a tensor with layout {layout.removeprefix('torch.')}: sparse tensors "
                "are not supported",
                hint="save dense arrays (tensor.to_dense())",
            )
        if str(tensor.dtype) == "torch.bfloat16":  # NumPy has no bfloat16; ml_dtypes does
            import ml_dtypes

            return np.asarray(tensor.float().numpy().astype(ml_dtypes.bfloat16))
        return np.asarray(tensor.numpy())
    array = np.asarray(value)
    if array.dtype.hasobject:
        raise DataError(f"{where}: a value of type {type(value).__name__} is not an array")
    return array


def _named_chunk(arrays: Mapping[str, Any], specs: tuple[TensorSpec, ...], where: str) -> Chunk:
    """Convert every input to a batch; check sample counts and dims shared by name."""
    chunk = {s.name: _to_batch(arrays[s.name], s, where) for s in specs}
    counts = {name: a.shape[0] for name, a in chunk.items()}
    if len(set(counts.values())) > 1:
        raise DataError(f"{where}: inputs hold different numbers of samples {counts}")
    shared: dict[str, tuple[int, str]] = {}
    for spec in specs:
        for dim, size in zip(spec.dims[1:], chunk[spec.name].shape[1:], strict=True):
            if dim.name is None:
                continue
            size0, name0 = shared.setdefault(dim.name, (size, spec.name))
            if size0 != size:
                raise DataError(
                    f"{where}: dim {dim.name!r} is {size0} in input {name0!r} but {size} in "
                    f"input {spec.name!r}",
                    hint="a dim shared by name must have one size within a sample",
                )
    return chunk


def _item_chunk(item: Any, specs: tuple[TensorSpec, ...], where: str) -> Chunk:
    if isinstance(item, Mapping):
        check_names(item, specs, where)
        return _named_chunk(item, specs, where)
    if isinstance(item, (list, tuple)):
        if len(item) != len(specs):
            raise DataError(
                f"{where} has {len(item)} values, but the model has {len(specs)} input(s): "
                + model_text(specs),
                hint="give one array per input in forward() order; drop labels, e.g. "
                "(x for x, _ in loader)",
            )
        return _named_chunk({s.name: v for s, v in zip(specs, item, strict=True)}, specs, where)
    if len(specs) == 1:
        return _named_chunk({specs[0].name: item}, specs, where)
    raise DataError(
        f"{where} is a {type(item).__name__}, but a model with {len(specs)} inputs needs a dict "
        "(name -> array) or a tuple in forward() order"
    )


def _samples(chunk: Chunk) -> int:
    return next(iter(chunk.values())).shape[0] if chunk else 0


# --- re-batching ----------------------------------------------------------------------------


def _rebatch(
    chunks: Iterable[Chunk],
    specs: tuple[TensorSpec, ...],
    *,
    batch_size: int,
    max_samples: int | None,
    where: str,
) -> Iterator[Chunk]:
    """The chunks cut into batches (``batch_segments``): a chunk is held only until its last
    samples are in a batch."""
    held: dict[int, Chunk] = {}

    def pieces() -> Iterator[tuple[int, tuple[tuple[int, ...], ...]]]:
        for index, chunk in enumerate(chunks):
            held[index] = chunk
            yield _samples(chunk), tuple(chunk[s.name].shape[1:] for s in specs)

    cut = batch_segments(
        pieces(), specs, batch_size=batch_size, max_samples=max_samples, where=where
    )
    for segments in cut:
        # concatenate always copies into a plain ndarray: a batch never pins a mapped file
        yield {
            s.name: np.concatenate([held[i][s.name][a:b] for i, a, b in segments]) for s in specs
        }
        for index in [i for i in held if i < segments[-1][0]]:
            del held[index]


# --- formats --------------------------------------------------------------------------------


def _npy_chunk(path: Path, specs: tuple[TensorSpec, ...], where: str) -> Chunk:
    if len(specs) != 1:
        raise DataError(
            f"{where}: a .npy file holds one array, but the model has {len(specs)} inputs: "
            + model_text(specs),
            hint="save a .npz with one array per input name: np.savez(path, name=array, ...)",
        )
    _check_file(path, "data file")
    with open(path, "rb") as f:
        magic = f.read(len(np.lib.format.MAGIC_PREFIX))
    if magic != np.lib.format.MAGIC_PREFIX:
        # np.load would try it as a pickle and say so, which misleads about a text file
        raise DataError(
            f"{where} is not a .npy file: it does not start with the .npy magic bytes",
            hint="write it with np.save",
        )
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(
            f"{where} is not a readable .npy file: {first_line(exc)}",
            hint="write it again with np.save; object arrays are refused",
        ) from exc
    chunk = _named_chunk({specs[0].name: array}, specs, where)
    check_sample_size(chunk[specs[0].name].shape[1:], specs[0], where)
    return chunk


def _parquet_chunks(
    path: Path, specs: tuple[TensorSpec, ...], start: int = 0, stop: int | None = None
) -> Iterator[Chunk]:
    """Rows of a Parquet file, each row group checked against the specs like any array."""
    names = tuple(s.name for s in specs)
    for arrays in parquet_chunks(path, names, start, stop):
        yield _named_chunk(arrays, specs, str(path))


def _open_pt(path: Path, specs: tuple[TensorSpec, ...]) -> tuple[int | None, Iterable[Chunk]]:
    try:
        import torch  # noqa: TID251 -- lazy on purpose: only .pt data needs torch here
    except ImportError as exc:
        raise DataError(
            f"{path}: reading .pt data needs PyTorch, which is not installed",
            hint="pip install -c constraints.txt torch==2.13.0, or save the data as .npz",
        ) from exc

    with warnings_logged(log):
        try:  # mmap keeps tensors on disk; the legacy (non-zip) format cannot be mapped
            obj = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except Exception:
            try:
                obj = torch.load(path, map_location="cpu", weights_only=True)
            except Exception as exc:
                raise DataError(
                    f"{path} could not be read by torch.load(weights_only=True): {first_line(exc)}",
                    hint="save only tensors, dicts and lists (torch.save({'x': tensor}, path))",
                ) from exc
    where = str(path)
    if isinstance(obj, Mapping):
        check_names(obj, specs, where)
        chunk = _named_chunk(obj, specs, where)
        return _samples(chunk), [chunk]
    if isinstance(obj, (list, tuple)):
        items = (_item_chunk(it, specs, f"{where} item {i}") for i, it in enumerate(obj))
        return None, items
    if hasattr(obj, "detach"):
        chunk = _item_chunk(obj, specs, where)
        return _samples(chunk), [chunk]
    raise DataError(
        f"{where} holds a {type(obj).__name__}; expected a tensor, a dict name -> tensor, or a "
        "list of dicts/tuples"
    )


def folder_files(path: Path) -> list[Path]:
    """A data folder's files in the order they are read: by relative path, hidden ones skipped."""
    return sorted(
        (p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")),
        key=lambda p: p.relative_to(path).as_posix(),
    )


def _open_dir(
    path: Path, specs: tuple[TensorSpec, ...], rows: int, image_spec: ImageSpec | None
) -> tuple[DataSource, Iterable[Chunk]]:
    files = folder_files(path)
    arrays = [p for p in files if p.suffix.lower() in ARRAY_SUFFIXES]
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    if arrays and images:
        raise DataError(
            f"folder {str(path)!r} holds both array files and images",
            hint="put the arrays and the images in separate folders",
        )
    if not arrays and not images:
        raise DataError(f"folder {str(path)!r} holds no data files", hint=f"supported: {SUPPORTED}")
    found = arrays or images
    if len(found) < len(files):
        log.warning("%s: ignoring %d other files", path, len(files) - len(found))
    if images:
        if image_spec is None:
            raise DataError(
                f"folder {str(path)!r} holds images, but no image preprocessing was given",
                hint="pass an image spec, e.g. --image-spec "
                "size=224x224,layout=NCHW,mean=0.485/0.456/0.406,std=0.229/0.224/0.225",
            )
        load = image_loader(path, specs, image_spec)
        desc = f"{path.name}/ ({len(images)} images, {image_spec.size[0]}x{image_spec.size[1]})"
        return DataSource(description=desc, samples=len(images)), (load(p) for p in images)

    def chunks() -> Iterator[Chunk]:
        for file in arrays:
            where = str(file)
            if file.suffix.lower() == ".npy":
                yield _npy_chunk(file, specs, where)
            elif file.suffix.lower() == ".parquet":
                yield from _parquet_chunks(file, specs)
            else:
                yield from npz_chunks(file, npz_plan(file, specs, where)[1], rows)

    desc = f"{path.name}/ ({len(arrays)} array files, {len(specs)} input(s))"
    return DataSource(description=desc, samples=None), chunks()


def check_image_spec_applies(data: Any) -> None:
    """An image spec is for a folder of images; with arrays it would be silently skipped (they
    are fed as they are), so it is refused before any work."""
    if isinstance(data, str | Path) and Path(data).is_dir():
        if any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder_files(Path(data))):
            return
    where = repr(str(data)) if isinstance(data, str | Path) else f"a {type(data).__name__}"
    raise DataError(
        f"--image-spec applies to a folder of images, and the data is {where}, not one",
        hint="drop --image-spec (arrays are fed as they are), or point --data at the images",
    )
