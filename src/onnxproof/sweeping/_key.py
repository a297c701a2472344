"""The cache key of a model: a hash of everything its verdict depends on.

The bytes of the files the model is read from (source and the .py files beside it, weights,
data, an hf folder), its input specs and options, and the versions of onnxproof and of every
package a verdict depends on (torch, the exporter's onnx and onnxscript, transformers, and the
runtimes). A passing report stored with the same
key is still true, so the model need not run again. Versions come from installed metadata, so
the key never imports torch.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path

from onnxproof._version import __version__
from onnxproof.sweeping._zoo import ZooModel

_CHUNK = 1 << 20
#: Packages whose upgrade can change a verdict: a passing report made with others is not reused.
_PACKAGES = (
    "torch", "onnx", "onnxscript", "onnx-ir", "onnxruntime", "onnxruntime-gpu", "transformers",
    "openvino", "tract", "numpy",
)  # fmt: skip


def cache_key(model: ZooModel) -> str | None:
    """Hex SHA-256 of the model's inputs, or None when its files cannot be known."""
    if model.files is None:
        return None
    digest = hashlib.sha256()
    head = {
        "model": model.model,
        # The time limit decides whether a run ends, not what a finished run found.
        "options": {k: v for k, v in model.options.items() if k != "timeout"},
        "onnxproof": __version__,
        "versions": {name: _version(name) for name in _PACKAGES},
    }
    digest.update(json.dumps(head, sort_keys=True, default=str).encode())
    for path in _expand(model.files):
        digest.update(str(path).encode() + b"\0")
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def _expand(paths: tuple[Path, ...]) -> list[Path]:
    """Files as given, folders (a data folder) as every file under them, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            found.append(path)
    return found


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
