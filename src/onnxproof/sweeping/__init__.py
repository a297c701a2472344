"""Model zoo sweeps: every model of a zoo.toml through ``onnxproof run``, each in its own process.

One crash or hang is one row; unchanged models that passed are not run again.
"""

from __future__ import annotations

from onnxproof.sweeping._sweep import DEFAULT_TIMEOUT, ENGINES, SUMMARY, Engine, sweep
from onnxproof.sweeping._zoo import MODEL_KEYS, Zoo, ZooModel, load_zoo

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENGINES",
    "MODEL_KEYS",
    "SUMMARY",
    "Engine",
    "Zoo",
    "ZooModel",
    "load_zoo",
    "sweep",
]
