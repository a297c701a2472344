"""The mark a written variant carries, so that only files onnxproof wrote are ever removed.

A passing variant is written with ``onnxproof.variant`` in its ``metadata_props``. When a later
run's variant of the same name fails its gate, the file at its path is removed only if it
carries that mark for that variant: anything else there (a file of the user's own, an ONNX file
from another tool) is left as it is and the report says so.
"""

from __future__ import annotations

import logging
from pathlib import Path

import onnx

from onnxproof.outputs import atomic_write

log = logging.getLogger(__name__)

#: The metadata key whose value is the variant's name.
VARIANT_KEY = "onnxproof.variant"


def write_marked(source: Path, target: Path, variant: str) -> Path:
    """Write the model at ``source`` to ``target`` (temp file, then rename) with the mark."""
    model = onnx.load(str(source))
    props = {p.key: p for p in model.metadata_props}
    if VARIANT_KEY in props:
        props[VARIANT_KEY].value = variant
    else:
        model.metadata_props.add(key=VARIANT_KEY, value=variant)
    return atomic_write(target, lambda tmp: onnx.save_model(model, str(tmp)))


def written_by_onnxproof(path: Path, variant: str) -> bool:
    """True only for a regular file that parses as an ONNX model marked as ``variant``."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # not an ONNX file at all: certainly not one onnxproof wrote
        log.debug("%s is not an ONNX model: %s", path, exc)
        return False
    return any(p.key == VARIANT_KEY and p.value == variant for p in model.metadata_props)
