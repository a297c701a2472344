"""OpenVINO's CPU plugin. The only module that imports openvino.

``openvino`` verifies what a deployment gets: default settings, so the plugin picks the inference
precision for the CPU it runs on (bf16 on CPUs with AVX512_BF16 or AMX, f32 elsewhere);
``details()["inference_precision"]`` says which it chose. ``openvino-f32`` pins f32. Both run
in a worker process (native code may crash); the ``*InProcess`` classes are what the worker runs.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from typing import Any

import numpy as np

from onnxproof.runtimes._base import Availability, Runtime, Session, Signature, SignedSession
from onnxproof.runtimes.workers import IsolatedRuntime

#: The config that makes the plugin compute in float32 whatever the CPU.
F32_CONFIG = {"INFERENCE_PRECISION_HINT": "f32"}


class OpenVinoSession(SignedSession):
    def __init__(self, model_path: str, config: dict[str, str]) -> None:
        import openvino as ov

        core = ov.Core()
        self._config = config
        self._compiled: Any = core.compile_model(core.read_model(model_path), "CPU", config)
        self._request: Any = self._compiled.create_infer_request()
        self.signature = Signature(
            inputs=tuple(p.get_any_name() for p in self._compiled.inputs),
            dtypes={
                p.get_any_name(): np.dtype(p.get_element_type().to_dtype())
                for p in self._compiled.inputs
            },
            outputs=tuple(p.get_any_name() for p in self._compiled.outputs),
        )
        #: What the plugin chose (or was told): bf16, f16 or f32.
        self.inference_precision = str(
            self._compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()
        )
        self._threads = str(self._compiled.get_property("INFERENCE_NUM_THREADS"))
        self._version = ov.get_version()

    def details(self) -> dict[str, str]:
        info = {
            "device": "CPU",
            "inference_precision": self.inference_precision,
            "config": ", ".join(f"{k}={v}" for k, v in self._config.items()) or "defaults",
            "threads": self._threads,
            "version": self._version,
        }
        if self.inference_precision != "f32":
            info["precision_fix"] = (
                'compile with {"INFERENCE_PRECISION_HINT": "f32"}, or verify with '
                "--runtime openvino-f32"
            )
        return info

    def close(self) -> None:
        self._request = self._compiled = None

    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self._request is None:
            raise RuntimeError("the OpenVINO session was closed")
        result = self._request.infer({n: feeds[n] for n in self.input_names})
        # Outputs are copies (the next infer does not overwrite them); keyed by port.
        return {
            n: np.asarray(result[port])
            for n, port in zip(self.output_names, self._compiled.outputs, strict=True)
        }


def _availability() -> Availability:
    # Without importing openvino: the parent process never loads its native code.
    if importlib.util.find_spec("openvino") is None:
        return Availability(available=False, install_hint="pip install 'onnxproof[openvino]'")
    return Availability(available=True, version=importlib.metadata.version("openvino"))


class OpenVinoInProcess(Runtime):
    """OpenVINO CPU with the plugin's default settings, in this process."""

    name = "openvino-inprocess"
    config: dict[str, str] = {}

    @classmethod
    def availability(cls) -> Availability:
        return _availability()

    def load(self, model_path: str) -> Session:
        return OpenVinoSession(model_path, dict(self.config))


class OpenVinoF32InProcess(OpenVinoInProcess):
    name = "openvino-f32-inprocess"
    config = F32_CONFIG


class OpenVino(IsolatedRuntime):
    """OpenVINO CPU as deployed (default settings: the precision the CPU gets), in a worker."""

    name = "openvino"
    inner = "onnxproof.runtimes.openvino:OpenVinoInProcess"


class OpenVinoF32(IsolatedRuntime):
    """OpenVINO CPU computing in float32 (INFERENCE_PRECISION_HINT=f32), in a worker."""

    name = "openvino-f32"
    inner = "onnxproof.runtimes.openvino:OpenVinoF32InProcess"
