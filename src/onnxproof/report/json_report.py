"""The JSON report: a record's ``to_dict()``, written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def dumps(record: Any) -> str:
    return json.dumps(record.to_dict(), indent=2, allow_nan=False) + "\n"


def write_json(record: Any, path: str | Path) -> None:
    """Write ``record.to_dict()`` to ``path`` via a temp file and rename; '-' means stdout."""
    text = dumps(record)
    if str(path) == "-":
        import sys

        sys.stdout.write(text)
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
