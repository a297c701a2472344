"""ONNX Runtime. The only module that imports onnxruntime."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from onnxproof.errors import RuntimeUnavailable
from onnxproof.runtimes._base import Availability, Runtime, Session


class OrtSession(Session):
    def __init__(
        self,
        model_path: str,
        providers: list[str],
        *,
        optimize: bool = True,
        threads: int | None = None,
    ) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        if not optimize:
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        # Fatal only: a failing run's error comes back as the exception onnxproof reports (once,
        # explained); ONNX Runtime's own log lines would reach the user's terminal raw.
        options.log_severity_level = 4
        self._run_options = ort.RunOptions()
        self._run_options.log_severity_level = 4
        self._session: ort.InferenceSession | None = ort.InferenceSession(
            model_path, options, providers=providers
        )
        self._inputs = tuple(i.name for i in self._session.get_inputs())
        self._dtypes = {i.name: d for i in self._session.get_inputs() if (d := _np_dtype(i.type))}
        self._outputs = tuple(o.name for o in self._session.get_outputs())
        #: The providers the session really runs on (a requested one can silently fall back).
        self.providers = tuple(self._session.get_providers())
        self._threads = str(threads) if threads is not None else "default (physical cores)"

    @property
    def input_names(self) -> tuple[str, ...]:
        return self._inputs

    @property
    def output_names(self) -> tuple[str, ...]:
        return self._outputs

    @property
    def input_dtypes(self) -> dict[str, np.dtype]:
        return self._dtypes

    def close(self) -> None:
        self._session = None  # the C++ session and its thread pool go with the last reference

    def details(self) -> dict[str, str]:
        return {"providers": ", ".join(self.providers), "threads": self._threads}

    def prepared(self, feeds: dict[str, np.ndarray]) -> Callable[[], object]:
        self.infer(feeds)
        session, run_options = self._session, self._run_options
        assert session is not None
        ordered = {n: feeds[n] for n in self._inputs}
        return lambda: session.run(None, ordered, run_options)

    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self._session is None:
            raise RuntimeError("the ONNX Runtime session was closed")
        values = self._session.run(None, {n: feeds[n] for n in self._inputs}, self._run_options)
        return {n: np.asarray(v) for n, v in zip(self._outputs, values, strict=True)}


def _np_dtype(ort_type: str) -> np.dtype | None:
    """'tensor(float)' → float32: ONNX Runtime spells a TensorProto type's name in lower case.
    None for what has no fixed numpy dtype (strings, sequences, maps)."""
    from onnx import TensorProto, helper

    if not (ort_type.startswith("tensor(") and ort_type.endswith(")")):
        return None
    name = ort_type[len("tensor(") : -1].upper()
    if name not in TensorProto.DataType.keys() or name == "STRING":
        return None
    return np.dtype(helper.tensor_dtype_to_np_dtype(TensorProto.DataType.Value(name)))


class OrtCpu(Runtime):
    """ONNX Runtime with the CPU execution provider."""

    name = "ort-cpu"
    providers = ["CPUExecutionProvider"]

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads

    @classmethod
    def availability(cls) -> Availability:
        try:
            import onnxruntime as ort
        except ImportError:
            return Availability(available=False, install_hint="pip install onnxruntime")
        return Availability(available=True, version=ort.__version__)

    def load(self, model_path: str) -> Session:
        return OrtSession(model_path, self.providers, threads=self.threads)


class OrtCpuNoOpt(OrtCpu):
    """ONNX Runtime CPU with every graph optimization off: when it agrees with PyTorch and
    ``ort-cpu`` does not, an optimizer fusion is at fault, not the export."""

    name = "ort-cpu-noopt"

    def load(self, model_path: str) -> Session:
        return OrtSession(model_path, self.providers, optimize=False, threads=self.threads)


class OrtCuda(OrtCpu):
    """ONNX Runtime with the CUDA execution provider (the onnxruntime-gpu package).

    onnxruntime-gpu lists CUDA as *available* even without a GPU, then silently runs on the CPU:
    the session's real providers are checked, and a fallback means this runtime could not run.
    """

    name = "ort-cuda"
    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    _required = "CUDAExecutionProvider"
    _hint = (
        "pip install onnxruntime-gpu in an environment of its own (it is the same module as "
        "onnxruntime and cannot share a venv with it), on a machine with an NVIDIA GPU and CUDA"
    )

    @classmethod
    def availability(cls) -> Availability:
        try:
            import onnxruntime as ort
        except ImportError:
            return Availability(available=False, install_hint=cls._hint)
        if cls._required not in ort.get_available_providers():
            return Availability(available=False, install_hint=cls._hint)
        return Availability(available=True, version=ort.__version__)

    def load(self, model_path: str) -> Session:
        session = OrtSession(model_path, self.providers, threads=self.threads)
        if self._required not in session.providers:
            session.close()
            raise RuntimeUnavailable(
                f"{self.name}: ONNX Runtime fell back to {', '.join(session.providers)} "
                f"({self._required} did not start: no usable GPU or CUDA libraries)",
                hint="run on a machine with an NVIDIA GPU, CUDA and cuDNN matching onnxruntime-gpu",
            )
        return session


class OrtTensorRT(OrtCuda):
    """ONNX Runtime with the TensorRT execution provider (onnxruntime-gpu and TensorRT)."""

    name = "ort-tensorrt"
    providers = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    _required = "TensorrtExecutionProvider"
