"""The PyTorch reference: the eval-mode module under no_grad, outputs flattened by name."""

from __future__ import annotations

import dataclasses
import inspect
import os
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from onnxproof.binding import bind_inputs
from onnxproof.runtimes._base import Availability, OutputCountMismatch, Runtime, Session


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
        # The inputs reach forward as they did at export: by parameter name where named so.
        self._binding = bind_inputs(module, input_names)

    def _arguments(
        self, feeds: dict[str, np.ndarray]
    ) -> tuple[tuple[torch.Tensor, ...], dict[str, torch.Tensor]]:
        return self._binding.split({n: to_tensor(feeds[n]) for n in self._inputs})

    @property
    def input_names(self) -> tuple[str, ...]:
        return self._inputs

    @property
    def output_names(self) -> tuple[str, ...]:
        return self._outputs

    @property
    def input_dtypes(self) -> dict[str, np.dtype]:
        return {}  # the module declares no dtypes; it receives what the ONNX side is checked for

    def module_outputs(self, feeds: dict[str, np.ndarray]) -> list[ModuleCall]:
        """Every module call's outputs for these feeds (see ``module_outputs``)."""
        args, kwargs = self._arguments(feeds)
        return module_outputs(self._module, list(args), kwargs)

    def prepared(self, feeds: dict[str, np.ndarray]) -> Callable[[], object]:
        self.infer(feeds)
        module, (args, kwargs) = self._module, self._arguments(feeds)

        def call() -> object:
            with torch.no_grad():
                return module(*args, **kwargs)

        return call

    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        args, kwargs = self._arguments(feeds)
        with torch.no_grad():
            result = self._module(*args, **kwargs)
        values = list(tensor_outputs(result).values())
        if len(values) != len(self._outputs):
            raise OutputCountMismatch(len(values), len(self._outputs))
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


@dataclass(frozen=True, kw_only=True)
class ModuleCall:
    """One call of a module: the outputs that later code reads, in the order they were produced.

    ``path`` is '' for the root, whose ``outputs`` are all its tensor outputs in output order (as
    the ONNX graph's outputs are). ``code`` is where the module's forward is written.
    """

    path: str
    type_name: str
    code: str | None
    outputs: tuple[tuple[str, np.ndarray], ...]


def module_outputs(
    module: torch.nn.Module,
    args: list[torch.Tensor],
    kwargs: dict[str, torch.Tensor] | None = None,
) -> list[ModuleCall]:
    """Every module call (root last) with its outputs that leave it, in completion order.

    Completion order is post-order: a child finishes before its parent, so the first module that
    diverges in this order is the deepest place where outputs part ways. An output "leaves" a call
    when it was made inside the call and an operation after the call reads it (or the model
    returns it): that is the PyTorch twin of an ONNX value that a module's nodes produce for nodes
    outside. Ordering the leaving outputs by when they were made gives the order in which the
    ONNX graph (traced in the same order) produces them.
    """
    tracker = _Tracker()
    pending: list[_PendingCall] = []
    starts: dict[int, list[int]] = {}
    handles = []

    def before(mod: torch.nn.Module, inputs: Any) -> None:
        starts.setdefault(id(mod), []).append(tracker.clock)

    def after(path: str) -> Any:
        def record(mod: torch.nn.Module, inputs: Any, output: Any) -> None:
            start = starts[id(mod)].pop()
            leaves = [(n, v) for n, v in flatten_outputs(output) if isinstance(v, torch.Tensor)]
            if not path:  # the root: every tensor output, in output order
                made = [(n, v, 0) for n, v in leaves]
            else:
                made = tracker.made_after(leaves, start)
            call = _PendingCall(path, mod, [(n, _copy(v), seq) for n, v, seq in made])
            pending.append(call)
            for index, (_, tensor, _) in enumerate(made):
                tracker.watch(tensor, call, index)

        return record

    for path, sub in module.named_modules():
        handles.append(sub.register_forward_pre_hook(before))
        handles.append(sub.register_forward_hook(after(path)))
    try:
        with torch.no_grad(), tracker:
            result = module(*args, **(kwargs or {}))
    finally:
        for handle in handles:
            handle.remove()
    for leaf in torch.utils._pytree.tree_leaves(result):
        if isinstance(leaf, torch.Tensor):
            tracker.read(leaf)  # returned by the model: read by the graph's outputs
    return [call.finish() for call in pending]


class _PendingCall:
    """A finished call whose outputs may still be read by later operations."""

    def __init__(
        self, path: str, mod: torch.nn.Module, made: list[tuple[str, np.ndarray, int]]
    ) -> None:
        self.path = path
        self.mod = mod
        self.made = made
        self.read = [not path] * len(made)  # the root's outputs are all compared

    def finish(self) -> ModuleCall:
        read = [made for made, r in zip(self.made, self.read, strict=True) if r]
        read.sort(key=lambda item: item[2])  # stable: the root's outputs keep their order
        return ModuleCall(
            path=self.path,
            type_name=type(self.mod).__name__,
            code=_forward_location(self.mod),
            outputs=tuple((name, value) for name, value, _ in read),
        )


class _Tracker(torch.overrides.TorchFunctionMode):
    """Numbers every tensor an operation makes, and notes when a watched tensor is read."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = 0
        self._made: dict[int, tuple[weakref.ref[torch.Tensor], int]] = {}
        self._watched: dict[
            int, tuple[weakref.ref[torch.Tensor], list[tuple[_PendingCall, int]]]
        ] = {}

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        outs = _tensors(out)
        if not outs:
            return out  # a metadata query (size, dim, dtype): no ONNX node reads a value for it
        inputs = _tensors((args, kwargs))
        name = getattr(func, "__name__", "")
        in_place = name.endswith("_") and not name.endswith("__") or name.startswith("__i")
        given = {id(t) for t in inputs}
        if not in_place and all(id(t) in given for t in outs):
            return out  # handed back unchanged (contiguous, .to(same dtype)): no new value
        self.clock += 1
        for tensor in inputs:
            self.read(tensor)
        for tensor in outs:
            self._made[id(tensor)] = (weakref.ref(tensor), self.clock)
        return out

    def made_after(
        self, leaves: list[tuple[str, torch.Tensor]], start: int
    ) -> list[tuple[str, torch.Tensor, int]]:
        """The leaves made by an operation after ``start``, each tensor once."""
        found: dict[int, tuple[str, torch.Tensor, int]] = {}
        for name, tensor in leaves:
            ref, seq = self._made.get(id(tensor), (None, -1))
            if ref is not None and ref() is tensor and seq > start and id(tensor) not in found:
                found[id(tensor)] = (name, tensor, seq)
        return list(found.values())

    def watch(self, tensor: torch.Tensor, call: _PendingCall, index: int) -> None:
        entry = self._watched.get(id(tensor))
        if entry is None or entry[0]() is not tensor:
            entry = (weakref.ref(tensor), [])
            self._watched[id(tensor)] = entry
        entry[1].append((call, index))

    def read(self, tensor: torch.Tensor) -> None:
        entry = self._watched.get(id(tensor))
        if entry is not None and entry[0]() is tensor:
            for call, index in entry[1]:
                call.read[index] = True


def _tensors(tree: Any) -> list[torch.Tensor]:
    return [t for t in torch.utils._pytree.tree_leaves(tree) if isinstance(t, torch.Tensor)]


def _copy(tensor: torch.Tensor) -> np.ndarray:
    # A copy: code after the module may change the tensor in place.
    return np.array(to_numpy(tensor), copy=True)


def _forward_location(mod: torch.nn.Module) -> str | None:
    """'Block.forward at models.py:140': where the class's forward is written."""
    forward = inspect.unwrap(type(mod).forward)
    try:
        file = inspect.getsourcefile(forward)
        line = inspect.getsourcelines(forward)[1]
    except (OSError, TypeError):
        return None
    if file is None:
        return None
    try:
        shown = os.path.relpath(file)
    except ValueError:  # another drive (Windows)
        shown = file
    if shown.startswith(".."):
        shown = file
    return f"{forward.__qualname__} at {shown}:{line}"
