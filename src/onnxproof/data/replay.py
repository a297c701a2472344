"""Generated cases saved to disk, one ``.npz`` per case, so a run can be replayed as data.

The folder reads back with ``--data FOLDER`` (arrays named after the inputs, in case order);
``.cases.json`` beside them says how each case was made (hidden, so the data reader skips it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from onnxproof.data.synthetic import Case
from onnxproof.errors import UsageError

MANIFEST = ".cases.json"


def save_cases(cases: Iterable[Case], folder: Path) -> list[Path]:
    """Write each case's feeds to ``folder/case-NNN.npz``; returns the paths written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot create the folder for saved inputs {str(folder)!r}: {exc.strerror}",
            hint="pass --save-inputs a folder you can write to",
        ) from exc
    written: list[Path] = []
    manifest = []
    for case in cases:
        path = folder / f"case-{case.index:03d}.npz"
        # Each member is one sample batch as the model is fed: first axis = samples. Written
        # under a hidden name first, so an interrupted run leaves no half-written case.
        arrays: dict[str, Any] = dict(case.feeds)
        partial = folder / f".{path.name}.partial.npz"
        try:
            np.savez(partial, **arrays)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        written.append(path)
        manifest.append(
            {"file": path.name, "index": case.index, "sizes": case.sizes, "draw": case.draw}
        )
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return written
