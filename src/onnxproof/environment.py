"""Where a run happened: versions, CPU, threads, command line. Imports nothing heavy.

Package versions come from installed metadata, so collecting them never imports torch or a
runtime; thread counts are read from a module only when it is already imported.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

from onnxproof._version import __version__
from onnxproof.results import Environment

#: Packages whose versions decide what a run computes.
PACKAGES = (
    "torch",
    "onnx",
    "onnxruntime",
    "onnxruntime-gpu",
    "onnxscript",
    "onnx-ir",
    "numpy",
    "transformers",
    "openvino",
)
#: CPU flags that change numerics or speed of inference (vector width, bf16/fp16, AMX).
_FLAG_PREFIXES = ("avx", "amx", "fma", "f16c", "sse4", "neon", "asimd", "sve")
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def collect(command: tuple[str, ...] | None = None) -> Environment:
    """The environment of this process; ``command`` defaults to ``sys.argv``."""
    model, flags = _cpu()
    return Environment(
        onnxproof=__version__,
        python=platform.python_version(),
        platform=platform.platform(),
        cpu=model,
        cpu_flags=flags,
        cpu_count=os.cpu_count(),
        threads=_threads(),
        packages={name: _version(name) for name in PACKAGES},
        command=tuple(sys.argv if command is None else command),
    )


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _cpu() -> tuple[str, tuple[str, ...]]:
    model = platform.processor() or platform.machine()
    flags: set[str] = set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and value.strip():
                    model = value.strip()
                elif key in ("flags", "Features") and not flags:
                    flags = set(value.split())
    except OSError:
        pass  # not Linux: the platform module's answer stands
    relevant = sorted(f for f in flags if f.startswith(_FLAG_PREFIXES))
    return model, tuple(relevant)


def _threads() -> dict[str, str]:
    threads = {name: os.environ[name] for name in _THREAD_VARIABLES if name in os.environ}
    torch = sys.modules.get("torch")
    if torch is not None:
        threads["torch.intra_op"] = str(torch.get_num_threads())
        threads["torch.inter_op"] = str(torch.get_num_interop_threads())
    return threads
