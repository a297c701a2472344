"""``torch.compile`` (Inductor) as a row beside eager PyTorch in ``bench``: what a user who keeps
PyTorch would deploy instead of ONNX.

It runs the module, not the ONNX file, so it is a benchmark row only (never a candidate in
``run``/``verify``). The first call at each batch size compiles, inside the untimed warm-up; its
duration is reported. Its outputs are compared with eager PyTorch's on the same inputs, so a
compiled model that computes something else cannot look good.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import cast

import numpy as np
import torch

from onnxproof.binding import bind_inputs
from onnxproof.runtimes._base import Availability, Session
from onnxproof.runtimes.torch_eager import TorchEager, TorchSession

#: Closeness of compiled to eager outputs: ``|a - b| <= ATOL + RTOL * |b|`` (float32 fusions
#: reorder reductions; this is the default policy's float32 tolerance).
ATOL, RTOL = 1e-4, 1e-3


class TorchCompiledSession(TorchSession):
    def __init__(
        self,
        module: torch.nn.Module,
        input_names: tuple[str, ...],
        output_names: tuple[str, ...],
    ) -> None:
        compiled = torch.compile(module, dynamic=False)  # an OptimizedModule, still a Module
        super().__init__(cast(torch.nn.Module, compiled), input_names, output_names)
        # The compiled wrapper's forward is (*args, **kwargs): bind by the module's own.
        self._binding = bind_inputs(module, input_names)
        self._eager = module
        self._details: dict[str, str] = {"backend": "inductor", "dynamic": "False"}

    def details(self) -> dict[str, str]:
        return dict(self._details)

    def prepared(self, feeds: dict[str, np.ndarray]) -> Callable[[], object]:
        batch = next(iter(feeds.values())).shape[:1]
        key = f"batch {batch[0]}" if batch else "scalar"
        start = time.perf_counter()
        compiled = self.infer(feeds)  # compiles for this shape
        self._details[f"first call s ({key})"] = f"{time.perf_counter() - start:.2f}"
        eager = TorchSession(self._eager, self.input_names, self.output_names).infer(feeds)
        worst, agree = 0.0, True
        for name, reference in eager.items():
            actual = compiled[name]
            if actual.shape != reference.shape:
                agree, worst = False, math.inf
            elif actual.dtype.kind == "f" and reference.dtype.kind == "f":
                # |a - b| <= atol + rtol * |b|, NaN close only to NaN (the project's convention)
                close = np.isclose(actual, reference, atol=ATOL, rtol=RTOL, equal_nan=True)
                agree &= bool(close.all())
                diff = np.abs(actual.astype(np.float64) - reference)
                worst = max(worst, float(np.nanmax(diff, initial=0.0)))
            else:
                agree &= bool(np.array_equal(actual, reference))
        previous = self._details.get("agrees with eager", "yes")
        self._details["agrees with eager"] = "yes" if agree and previous == "yes" else "no"
        self._details[f"max abs diff vs eager ({key})"] = f"{worst:.3g}"
        return super().prepared(feeds)


class TorchCompile(TorchEager):
    """The module through ``torch.compile``; a ``bench`` row, compared with eager PyTorch."""

    name = "torch-compile"

    @classmethod
    def availability(cls) -> Availability:
        if not hasattr(torch, "compile"):
            return Availability(available=False, install_hint="torch.compile needs torch >= 2.0")
        return Availability(available=True, version=torch.__version__)

    def load(self, model_path: str) -> Session:
        if self._module is None:
            raise ValueError("torch.compile runs a module, not a file")
        return TorchCompiledSession(self._module, self._input_names, self._output_names)


__all__ = ["TorchCompile", "TorchCompiledSession"]
