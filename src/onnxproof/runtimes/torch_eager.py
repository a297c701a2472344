"""The PyTorch reference: the eval-mode module under no_grad, outputs flattened by name."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from onnxproof.runtimes._base import Availability, Runtime, Session


def flatten_outputs(outputs: Any) -> list[tuple[str, Any]]:
    """Output leaves with stable, unique names: ``output`` for a single tensor, ``output_0..n``
    for a tuple, keys and fields joined by '.' (``logits``, ``aux.0``).

    Walks mappings (``ModelOutput`` of transformers 4.x and 5.x is one: its unset fields are not
    in it), dataclasses, namedtuples, lists and tuples itself, in the order the exporters' pytree
    flattening uses, so the i-th leaf is the i-th ONNX output. ``None`` entries are dropped, as
    the exporters drop them.
    """
    named: list[tuple[list[str], Any]] = []

    def walk(value: Any, path: list[str]) -> None:
        if value is None:
            return
        if isinstance(value, torch.Tensor):
            named.append((path, value))
        elif isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, [*path, str(key)])
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                walk(getattr(value, f.name), [*path, f.name])
        elif isinstance(value, tuple) and hasattr(value, "_fields"):
            for name in value._fields:
                walk(getattr(value, name), [*path, name])
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                walk(item, [*path, str(index)])
        else:
            named.append((path, value))  # a Python scalar or an opaque object: not a tensor

    walk(outputs, [])
    if len(named) == 1 and not named[0][0]:
        return [("output", named[0][1])]
    result: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for parts, leaf in named:
        if parts and parts[0].isdigit():
            parts = [f"output_{parts[0]}", *parts[1:]]
        name = ".".join(parts) or "output"
        unique, n = name, 1
        while unique in seen:  # {'a': {'b': x}} and {'a.b': y} would both be "a.b"
            unique, n = f"{name}_{n}", n + 1
        seen.add(unique)
        result.append((unique, leaf))
    return result


def tensor_outputs(outputs: Any) -> dict[str, torch.Tensor]:
    """Only the tensor leaves, by name (the exporters drop None and Python scalars)."""
    return {n: v for n, v in flatten_outputs(outputs) if isinstance(v, torch.Tensor)}


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    tensor = tensor.detach().cpu()
    if tensor.dtype == torch.bfloat16:
        import ml_dtypes

        return tensor.float().numpy().astype(ml_dtypes.bfloat16)
    return tensor.numpy()


def to_tensor(array: np.ndarray) -> torch.Tensor:
    """A tensor that owns a copy: a model that changes its input in place cannot reach the
    arrays every other runtime (and the next repeat) is fed."""
    if array.dtype.name == "bfloat16":
        return torch.from_numpy(array.astype(np.float32)).to(torch.bfloat16)
    # np.array keeps a rank-0 array rank 0 (np.ascontiguousarray would make it [1])
    return torch.from_numpy(np.array(array, copy=True, order="C"))


class TorchSession(Session):
    def __init__(
        self, module: torch.nn.Module, input_names: tuple[str, ...], output_names: tuple[str, ...]
    ) -> None:
        self._module = module
        self._inputs = input_names
        self._outputs = output_names

    @property
    def input_names(self) -> tuple[str, ...]:
        return self._inputs

    @property
    def output_names(self) -> tuple[str, ...]:
        return self._outputs

    @property
    def input_dtypes(self) -> dict[str, np.dtype]:
        return {}  # the module declares no dtypes; it receives what the ONNX side is checked for

    def module_outputs(self, feeds: dict[str, np.ndarray]) -> list[tuple[str, str, np.ndarray]]:
        """Every submodule's output for these feeds (see ``module_outputs``)."""
        return module_outputs(self._module, [to_tensor(feeds[n]) for n in self._inputs])

    def prepared(self, feeds: dict[str, np.ndarray]) -> Callable[[], object]:
        self.infer(feeds)
        module, args = self._module, [to_tensor(feeds[n]) for n in self._inputs]

        def call() -> object:
            with torch.no_grad():
                return module(*args)

        return call

    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        args = [to_tensor(feeds[n]) for n in self._inputs]
        with torch.no_grad():
            result = self._module(*args)
        values = list(tensor_outputs(result).values())
        if len(values) != len(self._outputs):
            raise ValueError(
                f"the PyTorch model returned {len(values)} tensors; the ONNX file has "
                f"{len(self._outputs)} outputs"
            )
        return {n: to_numpy(v) for n, v in zip(self._outputs, values, strict=True)}


class TorchEager(Runtime):
    """Reference runtime. Outputs are named after the ONNX outputs, matched by position."""

    name = "torch"

    def __init__(
        self,
        module: torch.nn.Module | None = None,
        input_names: tuple[str, ...] = (),
        output_names: tuple[str, ...] = (),
        threads: int | None = None,
    ) -> None:
        if threads is not None:
            torch.set_num_threads(threads)
        self._module = module
        self._input_names = input_names
        self._output_names = output_names

    @classmethod
    def availability(cls) -> Availability:
        return Availability(available=True, version=torch.__version__)

    def load(self, model_path: str) -> Session:
        if self._module is None:
            raise ValueError("the torch reference runs a module, not a file")
        return TorchSession(self._module, self._input_names, self._output_names)


def module_outputs(
    module: torch.nn.Module, args: list[torch.Tensor]
) -> list[tuple[str, str, np.ndarray]]:
    """(path, class name, first tensor output) of every submodule, in completion order.

    Completion order is post-order: a child finishes before its parent, so the first module that
    diverges in this order is the deepest place where outputs part ways.
    """
    captured: list[tuple[str, str, np.ndarray]] = []
    handles = []

    def hook(path: str) -> Any:
        def record(mod: torch.nn.Module, inputs: Any, output: Any) -> None:
            leaves = [v for _, v in flatten_outputs(output) if isinstance(v, torch.Tensor)]
            if leaves:
                captured.append((path, type(mod).__name__, to_numpy(leaves[0])))

        return record

    for path, sub in module.named_modules():
        if path:
            handles.append(sub.register_forward_hook(hook(path)))
    try:
        with torch.no_grad():
            module(*args)
    finally:
        for handle in handles:
            handle.remove()
    return captured
