"""The one interface every runtime implements: load a model, describe inputs, infer."""

from __future__ import annotations

import abc
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from onnxproof.errors import DataError


@dataclass(frozen=True, kw_only=True)
class Availability:
    """Whether a runtime can run here, and if not, how to make it so."""

    available: bool
    version: str | None = None
    install_hint: str | None = None


class Signature(NamedTuple):
    """A graph's inputs (initializers left out), their dtypes, and its outputs, by name."""

    inputs: tuple[str, ...]
    dtypes: dict[str, np.dtype]
    outputs: tuple[str, ...]


class OutputCountMismatch(ValueError):
    """The PyTorch model returned another number of tensors than the ONNX file has outputs."""

    def __init__(self, returned: int, expected: int) -> None:
        super().__init__(
            f"the PyTorch model returned {returned} tensors; the ONNX file has {expected} outputs"
        )
        self.returned = returned
        self.expected = expected


class Session(abc.ABC):
    """A loaded model in one runtime; a context manager that releases it on exit."""

    #: At most this many generated cases for a runtime too slow for all of them (None: all).
    case_limit: int | None = None

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

    def time_calls(
        self,
        feeds: dict[str, np.ndarray],
        *,
        warmup: int,
        iterations: int | None,
        budget_s: float,
    ) -> tuple[list[float], str]:
        """Seconds of each timed inference on ``feeds`` (after ``warmup`` untimed ones), and where
        the clock ran. Runtimes in another process override this to time inside it, so the
        round trip to onnxproof is not in their figures."""
        call = self.prepared(feeds)
        return timed_calls(call, warmup=warmup, iterations=iterations, budget_s=budget_s), (
            "in process, around the runtime's own call"
        )

    def _wait_limit(
        self, feeds: dict[str, np.ndarray], *, warmup: int, iterations: int | None, budget_s: float
    ) -> float:
        """For runtimes timed in another process: one ordinary call first (it checks the feeds,
        and starts a worker again after a crash), whose duration bounds how long the timed loop
        may take before the runtime counts as hung. Seconds, beyond the per-call timeout."""
        begin = time.perf_counter()
        self.infer(feeds)
        one = time.perf_counter() - begin
        # a budget-bound loop makes at least 5 timed calls, and one more past the deadline
        calls = warmup + (iterations if iterations is not None else 5) + 1
        return budget_s + 10 * one * calls

    def details(self) -> dict[str, str]:
        """What the runtime really ran with (providers, precision, threads), for the report."""
        return {}

    @property
    @abc.abstractmethod
    def input_names(self) -> tuple[str, ...]: ...

    @property
    @abc.abstractmethod
    def output_names(self) -> tuple[str, ...]: ...

    @property
    @abc.abstractmethod
    def input_dtypes(self) -> dict[str, np.dtype]:
        """The dtype the model declares for each input, as this runtime reads it. An input left
        out (or ``{}``, as the PyTorch reference returns) is not checked."""

    def infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run once. Checks names and dtypes first: a typo should not be a runtime's cryptic
        error, and a wrong dtype must not be cast silently (OpenVINO casts float64 to float32,
        the ONNX reference computes in float64), or runtimes would be compared on different data.
        """
        missing = [n for n in self.input_names if n not in feeds]
        extra = [n for n in feeds if n not in self.input_names]
        if missing or extra:
            raise ValueError(
                f"feeds do not match the model's inputs: missing {missing}, unexpected {extra}"
            )
        check_dtypes(feeds, self.input_dtypes)
        return self._infer(feeds)

    @abc.abstractmethod
    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]: ...


class SignedSession(Session):
    """A session whose inputs, their dtypes and outputs are known once loaded (``signature``)."""

    signature: Signature

    @property
    def input_names(self) -> tuple[str, ...]:
        return self.signature.inputs

    @property
    def output_names(self) -> tuple[str, ...]:
        return self.signature.outputs

    @property
    def input_dtypes(self) -> dict[str, np.dtype]:
        return self.signature.dtypes


class Runtime(abc.ABC):
    """A runtime that can run an ONNX file (or, for the reference, the PyTorch model)."""

    name: str

    @classmethod
    @abc.abstractmethod
    def availability(cls) -> Availability: ...

    @abc.abstractmethod
    def load(self, model_path: str) -> Session: ...


def timed_calls(
    call: Callable[[], object], *, warmup: int, iterations: int | None, budget_s: float
) -> list[float]:
    """``warmup`` untimed calls, then ``iterations`` timed ones, or as many as ``budget_s`` allows
    (at least 5). The clock is read right around each call and nothing else."""
    for _ in range(warmup):
        call()
    times: list[float] = []
    clock = time.perf_counter
    deadline = clock() + budget_s
    while True:
        begin = clock()
        call()
        end = clock()
        times.append(end - begin)
        if iterations is not None:
            if len(times) >= iterations:
                return times
        elif end >= deadline and len(times) >= 5:
            return times


def check_dtypes(feeds: dict[str, np.ndarray], declared: dict[str, np.dtype]) -> None:
    """DataError naming the first feed whose dtype is not the declared one."""
    for name, dtype in declared.items():
        feed = feeds.get(name)
        got = getattr(feed, "dtype", None)
        if got is None or got == dtype:
            continue
        raise DataError(
            f"input {name!r} is {got} but the model declares {dtype}",
            hint=f"cast the array first (array.astype(numpy.{dtype.name})); runtimes would "
            "otherwise cast it silently or compute in another precision",
        )


def onnx_signature(model_path: str) -> Signature:
    """The signature read from the file (weights stay on disk), for runtimes that do not report
    it in ONNX terms."""
    import onnx
    from onnx import helper

    graph = onnx.load(model_path, load_external_data=False).graph
    initializers = {t.name for t in graph.initializer}
    inputs = tuple(v.name for v in graph.input if v.name not in initializers)
    dtypes: dict[str, np.dtype] = {}
    for value in graph.input:
        elem = value.type.tensor_type.elem_type if value.type.HasField("tensor_type") else 0
        # Strings have no fixed numpy dtype (object or <U); they are not checked.
        if value.name in initializers or elem in (0, onnx.TensorProto.STRING):
            continue
        dtypes[value.name] = np.dtype(helper.tensor_dtype_to_np_dtype(elem))
    return Signature(inputs, dtypes, tuple(o.name for o in graph.output))
