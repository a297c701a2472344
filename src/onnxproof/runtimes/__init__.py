"""Runtimes behind one interface. ``get(name)`` is the only way in; each module owns its import."""

from __future__ import annotations

import importlib
from typing import Any

from onnxproof.errors import RuntimeUnavailable
from onnxproof.runtimes._base import Availability, Runtime, Session
from onnxproof.runtimes.workers import RuntimeCrashed

#: name → "module:Class". Modules import lazily so a missing package never breaks the others.
REGISTRY: dict[str, str] = {
    "ort-cpu": "onnxproof.runtimes.ort:OrtCpu",
    "ort-cpu-noopt": "onnxproof.runtimes.ort:OrtCpuNoOpt",
    "ort-cuda": "onnxproof.runtimes.ort:OrtCuda",
    "ort-tensorrt": "onnxproof.runtimes.ort:OrtTensorRT",
    "ort-node": "onnxproof.runtimes.ort_node:OrtNode",
    "ort-web": "onnxproof.runtimes.ort_web:OrtWeb",
    "torch": "onnxproof.runtimes.torch_eager:TorchEager",
    "torch-compile": "onnxproof.runtimes.torch_compile:TorchCompile",
    "onnx-reference": "onnxproof.runtimes.onnx_reference:OnnxReference",
    # Native engines run in a worker process: a crash or a hang is a result, not onnxproof's end.
    "openvino": "onnxproof.runtimes.openvino:OpenVino",
    "openvino-f32": "onnxproof.runtimes.openvino:OpenVinoF32",
    "tract": "onnxproof.runtimes.tract:Tract",
}


#: Runtimes that run the PyTorch module rather than the ONNX file: ``bench`` rows, not candidates.
MODULE_RUNTIMES = ("torch", "torch-compile")


def runtime_class(name: str) -> type[Runtime]:
    if name not in REGISTRY:
        raise RuntimeUnavailable(
            f"unknown runtime {name!r}", hint=f"choose one of {', '.join(REGISTRY)}"
        )
    module_name, _, class_name = REGISTRY[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise RuntimeUnavailable(f"runtime {name!r} cannot be imported: {exc}") from exc
    cls: type[Runtime] = getattr(module, class_name)
    return cls


def get(name: str, **options: Any) -> Runtime:
    """An instance of a runtime that is available here, or RuntimeUnavailable with a hint.

    ``options`` go to the runtime's constructor (the torch reference takes the module).
    """
    cls = runtime_class(name)
    availability = cls.availability()
    if not availability.available:
        raise RuntimeUnavailable(
            f"runtime {name!r} is not installed", hint=availability.install_hint
        )
    return cls(**options)


__all__ = [
    "MODULE_RUNTIMES",
    "REGISTRY",
    "Availability",
    "Runtime",
    "RuntimeCrashed",
    "Session",
    "get",
    "runtime_class",
]
