"""Write the exported model: provenance in metadata_props, one file under 2 GB, atomic rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import onnx

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

    Both files are written beside the destination under temporary names and renamed last, so a
    failure leaves nothing at the destination.
    """
    existing = {p.key: p for p in model.metadata_props}
    for key, value in metadata.items():
        if key in existing:
            existing[key].value = value
        else:
            model.metadata_props.add(key=key, value=value)
    destination.parent.mkdir(parents=True, exist_ok=True)
    external = initializer_bytes(model) > SINGLE_FILE_LIMIT
    data_name = destination.name + ".data" if external else None
    fd, tmp_name = tempfile.mkstemp(prefix=f".{destination.name}.", dir=destination.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    data_path = destination.parent / data_name if data_name else None
    try:
        if data_path is None:
            onnx.save_model(model, str(tmp))
        else:
            # The model refers to its data by this name, so the data is written there directly;
            # the model itself appears at the destination only once both are complete.
            onnx.save_model(
                model,
                str(tmp),
                save_as_external_data=True,
                all_tensors_to_one_file=True,
                location=data_name,
                size_threshold=0,
            )
        os.replace(tmp, destination)
    except BaseException:
        tmp.unlink(missing_ok=True)
        if data_path is not None:
            data_path.unlink(missing_ok=True)
        raise
    stale = destination.parent / (destination.name + ".data")
    if data_name is None and stale.exists():
        stale.unlink()  # left by an earlier export; this file no longer refers to it
    return data_name
