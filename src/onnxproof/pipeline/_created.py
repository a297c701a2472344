"""The file a run created, removed again when the run then ends on a user error (exit 2).

A run that refuses its input after exporting (``--tol`` naming an output the file does not have,
data that does not fit the file) leaves nothing behind, as one refused before the export does.
A file that was at the path before the run is never removed: it was not this run's to remove.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from onnxproof.errors import OnnxproofError
from onnxproof.outputs import side_data_path

log = logging.getLogger(__name__)


@contextlib.contextmanager
def removed_on_user_error(onnx_path: Path) -> Iterator[None]:
    """Remove ``onnx_path`` (and its side data file) if the block creates it and then raises an
    error of exit code 2."""
    paths = [onnx_path, side_data_path(onnx_path)]
    before = {p: os.path.lexists(p) for p in paths}
    try:
        yield
    except OnnxproofError as exc:
        if exc.exit_code == 2:
            for path in paths:
                if not before[path] and path.is_file() and not path.is_symlink():
                    log.info("removing %s: the run stopped on an error after writing it", path)
                    with contextlib.suppress(OSError):
                        path.unlink()
        raise
