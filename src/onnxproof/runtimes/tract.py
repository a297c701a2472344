"""tract (Sonos' Rust inference engine). The only module that imports tract.

tract takes inputs by position in graph-input order, returns ``tract.Tensor`` values, and runs
single-threaded. Its output names are node names, so names and dtypes come from the file itself.
``tract`` runs in a worker process (native code may crash); ``TractInProcess`` is what it runs.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from typing import Any

import numpy as np

from onnxproof.runtimes._base import Availability, Runtime, Session, SignedSession, onnx_signature
from onnxproof.runtimes.workers import IsolatedRuntime


class TractSession(SignedSession):
    def __init__(self, model_path: str) -> None:
        import tract

        try:
            model = tract.onnx().load(model_path)
            inputs = tuple(model.input_name(i) for i in range(model.input_count()))
            self._runnable: Any = model.into_model().into_runnable()
        except tract.TractError as exc:
            raise RuntimeError(_short(exc)) from None
        # Positional inputs in tract's order; output names from the file (tract names nodes).
        self.signature = onnx_signature(model_path)._replace(inputs=inputs)
        self._version = tract.version()

    def details(self) -> dict[str, str]:
        return {"threads": "1 (tract is single-threaded)", "version": self._version}

    def close(self) -> None:
        self._runnable = None

    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import tract

        if self._runnable is None:
            raise RuntimeError("the tract session was closed")
        try:
            values = self._runnable.run([feeds[n] for n in self.input_names])
        except tract.TractError as exc:
            raise RuntimeError(_short(exc)) from None
        return {n: v.to_numpy() for n, v in zip(self.output_names, values, strict=True)}


def _short(exc: Exception) -> str:
    """tract's message without the Rust stack trace it appends when RUST_BACKTRACE is set."""
    return str(exc).split("\n\nStack backtrace:")[0].strip()


class TractInProcess(Runtime):
    """tract, in this process."""

    name = "tract-inprocess"

    @classmethod
    def availability(cls) -> Availability:
        # Without importing tract: the parent process never loads its native code.
        if importlib.util.find_spec("tract") is None:
            return Availability(available=False, install_hint="pip install 'onnxproof[tract]'")
        return Availability(available=True, version=importlib.metadata.version("tract"))

    def load(self, model_path: str) -> Session:
        return TractSession(model_path)


class Tract(IsolatedRuntime):
    """tract in a worker process."""

    name = "tract"
    inner = "onnxproof.runtimes.tract:TractInProcess"
