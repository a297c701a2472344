"""Generated cases saved to disk, one ``.npz`` per case, so a run can be replayed as data.

The folder reads back with ``--data FOLDER`` (arrays named after the inputs, in case order);
``.cases.json`` beside them says how each case was made (hidden, so the data reader skips it).

The folder is new, empty, or one this writer filled before (it holds a ``.cases.json``): there,
the earlier run's cases that its manifest lists and this run does not write again are removed,
so the folder replays exactly this run's cases; any other file is left alone. A non-empty folder
without the manifest (a data folder of the user's own) is refused before any work, as is the
``--data`` path itself, a folder inside it, or a path that is also an output.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from onnxproof.data.synthetic import Case
from onnxproof.errors import UsageError

MANIFEST = ".cases.json"
#: The names this writer gives its cases; only such names are ever removed.
_CASE_NAME = re.compile(r"case-\d{3,}\.npz")


def _read_as_data(path: Path) -> bool:
    from onnxproof.data.files import ARRAY_SUFFIXES
    from onnxproof.data.images import IMAGE_SUFFIXES

    return path.suffix.lower() in (*ARRAY_SUFFIXES, *IMAGE_SUFFIXES)


def check_save_target(
    folder: str | os.PathLike[str],
    *,
    data: object = None,
    outputs: Sequence[str | os.PathLike[str] | None] = (),
) -> None:
    """Refuse, before any work, a ``--save-inputs`` folder the cases must not go to: a file, the
    ``--data`` path or a path inside it (or holding it), an output's path or a path under one, a
    folder that would hold an output ``--data`` reads (an array or image file), or a non-empty
    folder that is not an earlier ``--save-inputs`` folder. Reports and the model beside the
    cases are fine: ``--data`` on the folder reads arrays and images only. Raises UsageError."""
    target = Path(folder)
    real = Path(os.path.realpath(target))
    hint = "pass --save-inputs a new or empty folder of its own"
    if isinstance(data, str | os.PathLike):
        source = Path(os.path.realpath(data))
        if real == source or source in real.parents or real in source.parents:
            raise UsageError(
                f"--save-inputs {target} is the --data path {data} or overlaps it: the saved "
                "cases would be mixed with the data",
                hint=hint,
            )
    for output in outputs:
        if output is None or str(output) == "-":
            continue
        taken = Path(os.path.realpath(output))
        if real == taken or taken in real.parents:
            raise UsageError(
                f"--save-inputs {target} would overwrite the output {output}", hint=hint
            )
        if real in taken.parents and _read_as_data(taken):
            # --data on the folder would read it back as a case
            raise UsageError(
                f"the output {output} would be written into --save-inputs {target}, which "
                "should hold the saved cases alone",
                hint=hint,
            )
    if os.path.lexists(target) and not target.is_dir():
        raise UsageError(f"--save-inputs {target} exists and is not a folder", hint=hint)
    if target.is_dir() and any(target.iterdir()) and _earlier_cases(target) is None:
        raise UsageError(
            f"--save-inputs {target} holds files and is not a folder of saved inputs (no "
            f"{MANIFEST}); not writing cases into it",
            hint=hint,
        )


def _earlier_cases(folder: Path) -> set[str] | None:
    """The case files an earlier ``save_cases`` listed in ``folder``'s manifest, or None when
    there is no readable manifest."""
    try:
        entries = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        return None
    names = [e.get("file") for e in entries]
    if not all(isinstance(n, str) and _CASE_NAME.fullmatch(n) for n in names):
        return None
    return set(names)  # type: ignore[arg-type]


def save_cases(cases: Iterable[Case], folder: Path) -> list[Path]:
    """Write each case's feeds to ``folder/case-NNN.npz``; returns the paths written. Cases an
    earlier call left in ``folder`` that this one does not write again are removed."""
    # The folder was checked before the run (check_save_target); only the cases an earlier
    # call listed are ever removed, whatever else is there now.
    earlier = _earlier_cases(folder) if folder.is_dir() else None
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
    for name in sorted((earlier or set()) - {p.name for p in written}):
        (folder / name).unlink(missing_ok=True)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return written
