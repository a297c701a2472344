"""The JSON report: a record's ``to_dict()``, written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from onnxproof.report._write import write_text


def dumps(record: Any) -> str:
    return json.dumps(record.to_dict(), indent=2, allow_nan=False) + "\n"


def write_json(record: Any, path: str | Path) -> None:
    """Write ``record.to_dict()`` to ``path`` via a temp file and rename; '-' means stdout.

    A symlink's target is replaced (the link stays), a device or pipe is written directly and an
    existing file keeps its permissions: see :func:`onnxproof.outputs.atomic_write`.
    """
    write_text(dumps(record), path)
