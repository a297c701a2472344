"""The one interface every runtime implements: load a model, describe inputs, infer."""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, kw_only=True)
class Availability:
    """Whether a runtime can run here, and if not, how to make it so."""

    available: bool
    version: str | None = None
    install_hint: str | None = None


class Session(abc.ABC):
    """A loaded model in one runtime; a context manager that releases it on exit."""

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release what the runtime holds (memory, threads, a worker). Safe to call twice."""
        return None  # in-process sessions without native resources hold nothing to release

    def prepared(self, feeds: dict[str, np.ndarray]) -> Callable[[], object]:
        """A call that runs inference on ``feeds`` with as little of onnxproof around it as the
        runtime allows: what a benchmark times. Feeds are checked once, here."""
        self.infer(feeds)
        return lambda: self._infer(feeds)

    def details(self) -> dict[str, str]:
        """What the runtime really ran with (providers, precision, threads), for the report."""
        return {}

    @property
    @abc.abstractmethod
    def input_names(self) -> tuple[str, ...]: ...

    @property
    @abc.abstractmethod
    def output_names(self) -> tuple[str, ...]: ...

    def infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run once. Checks the feed names first so a typo is not a runtime's cryptic error."""
        missing = [n for n in self.input_names if n not in feeds]
        extra = [n for n in feeds if n not in self.input_names]
        if missing or extra:
            raise ValueError(
                f"feeds do not match the model's inputs: missing {missing}, unexpected {extra}"
            )
        return self._infer(feeds)

    @abc.abstractmethod
    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]: ...


class Runtime(abc.ABC):
    """A runtime that can run an ONNX file (or, for the reference, the PyTorch model)."""

    name: str

    @classmethod
    @abc.abstractmethod
    def availability(cls) -> Availability: ...

    @abc.abstractmethod
    def load(self, model_path: str) -> Session: ...
