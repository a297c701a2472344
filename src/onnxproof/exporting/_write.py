"""Write the exported model: provenance in metadata_props, one file under 2 GB, atomic rename."""

from __future__ import annotations

import logging
import os
import stat
import tempfile
from pathlib import Path

import onnx

from onnxproof.errors import UsageError
from onnxproof.outputs import atomic_write, is_stream, side_data_path

log = logging.getLogger(__name__)

#: Protobuf cannot serialize a message past 2 GiB; leave headroom for the graph itself.
SINGLE_FILE_LIMIT = 2**31 - 2**26


def initializer_bytes(model: onnx.ModelProto) -> int:
    total = 0
    for tensor in model.graph.initializer:
        if tensor.raw_data:
            total += len(tensor.raw_data)
        else:
            count = 1
            for dim in tensor.dims:
                count *= dim
            total += count * 4
    return total


def finalize(model: onnx.ModelProto, metadata: dict[str, str], destination: Path) -> str | None:
    """Write ``model`` to ``destination``; return the side data file's name when one is needed.

    Each file is written under a temporary name beside its real target (a symlink is followed)
    and renamed last, so a failure leaves the destination as it was. A device or named pipe
    (``/dev/null``) is written directly. A side file the previous model at the destination used
    is removed once the new single-file model replaces it.
    """
    existing = {p.key: p for p in model.metadata_props}
    for key, value in metadata.items():
        if key in existing:
            existing[key].value = value
        else:
            model.metadata_props.add(key=key, value=value)
    if initializer_bytes(model) <= SINGLE_FILE_LIMIT:
        stale = _side_file_in_use(destination)  # read before the old model is replaced
        atomic_write(destination, lambda tmp: onnx.save_model(model, str(tmp)))
        if stale is not None:
            stale.unlink(missing_ok=True)
        return None
    return _write_with_side_file(model, destination)


def _write_with_side_file(model: onnx.ModelProto, destination: Path) -> str:
    if is_stream(destination):
        raise UsageError(
            f"{destination} is a device or pipe, but the model's weights pass 2 GB and must go "
            "to a side file beside it",
            hint="write the model to a regular file path",
        )
    target = Path(os.path.realpath(destination))
    side = side_data_path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # The model names its data file relative to its own folder, so both are saved together into
    # a staging folder beside the target (same filesystem: the renames below are atomic), then
    # moved into place data first: the new model never appears without its data.
    with tempfile.TemporaryDirectory(prefix=f".{target.name}.", dir=target.parent) as staging:
        staged = Path(staging) / target.name
        onnx.save_model(
            model,
            str(staged),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=side.name,
            size_threshold=0,
        )
        atomic_write(side, lambda tmp: os.replace(Path(staging) / side.name, tmp))
        atomic_write(target, lambda tmp: os.replace(staged, tmp))
    return side.name


def _side_file_in_use(destination: Path) -> Path | None:
    """The side file beside ``destination`` that the model there now refers to, if any.

    Only ``NAME.data`` (the name this writer gives), only a regular file (never a folder or a
    link), and only when the existing model names it as the location of its tensors' data.
    """
    target = Path(os.path.realpath(destination))
    side = side_data_path(target)
    try:
        if not (stat.S_ISREG(os.stat(target).st_mode) and stat.S_ISREG(os.lstat(side).st_mode)):
            return None
        old = onnx.load(str(target), load_external_data=False)
    except Exception as exc:  # not there, or not a model: then it refers to nothing
        log.debug("not reading %s for its side file: %s", target, exc)
        return None
    # This writer puts every tensor of a large model in the side file, initializers included.
    locations = {
        os.path.normpath(entry.value)
        for tensor in old.graph.initializer
        for entry in tensor.external_data
        if entry.key == "location"
    }
    return side if side.name in locations else None
