"""onnx's ReferenceEvaluator: the ONNX spec's own semantics in pure numpy, an independent oracle.

It runs in this process (pure Python cannot crash the interpreter) and is slow: about 6x ONNX
Runtime's time on a small MLP, 300-460x on convolutions. It computes in whatever dtype it is
handed (float64 in, float64 throughout), which the base Session's dtype check rules out.
"""

from __future__ import annotations

import numpy as np
import onnx

from onnxproof.runtimes._base import Availability, Runtime, Session, SignedSession, onnx_signature

#: Stated in details() so a report can explain a slow row and its capped cases.
COST = "pure numpy: ~6x ONNX Runtime on small dense models, 300-460x on Conv"


class OnnxReferenceSession(SignedSession):
    #: One draw at each size, at most this many: the evaluator is hundreds of times slower.
    case_limit = 6

    def __init__(self, model_path: str) -> None:
        from onnx.reference import ReferenceEvaluator

        self._evaluator: ReferenceEvaluator | None = ReferenceEvaluator(model_path)
        self.signature = onnx_signature(model_path)

    def details(self) -> dict[str, str]:
        return {"engine": "onnx.reference.ReferenceEvaluator", "cost": COST}

    def close(self) -> None:
        self._evaluator = None

    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self._evaluator is None:
            raise RuntimeError("the onnx reference session was closed")
        values = self._evaluator.run(None, {n: feeds[n] for n in self.input_names})
        return {n: np.asarray(v) for n, v in zip(self.output_names, values, strict=True)}


class OnnxReference(Runtime):
    """The onnx package's reference implementation of every operator."""

    name = "onnx-reference"

    @classmethod
    def availability(cls) -> Availability:
        return Availability(available=True, version=onnx.__version__)

    def load(self, model_path: str) -> Session:
        return OnnxReferenceSession(model_path)
