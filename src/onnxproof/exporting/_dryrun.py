"""Run the model once on the example inputs; a shape it rejects names the layer that rejected it."""

from __future__ import annotations

from typing import Any

import torch

from onnxproof.errors import InputSpecError
from onnxproof.exporting._messages import first_line
from onnxproof.specs import TensorSpec


def dry_run(
    module: torch.nn.Module,
    args: tuple[Any, ...],
    specs: tuple[TensorSpec, ...],
    kwargs: dict[str, Any] | None = None,
) -> Any:
    """Forward once under no_grad. Raises InputSpecError naming the layer and the shapes."""
    active: list[tuple[str, torch.nn.Module, list[list[int]]]] = []
    names = {m: n for n, m in module.named_modules()}
    handles = []
    if not isinstance(module, torch.jit.ScriptModule):

        def enter(mod: torch.nn.Module, inputs: Any) -> None:
            # a nested tensor (nn.TransformerEncoder's fast path on padded rows) has no sizes
            shapes = [
                list(t.shape) for t in inputs if isinstance(t, torch.Tensor) and not t.is_nested
            ]
            active.append((names.get(mod, "?"), mod, shapes))

        def leave(mod: torch.nn.Module, inputs: Any, output: Any) -> None:
            if active:
                active.pop()

        for mod in module.modules():
            handles.append(mod.register_forward_pre_hook(enter))
            handles.append(mod.register_forward_hook(leave))
    try:
        with torch.no_grad():
            return module(*args, **(kwargs or {}))
    except Exception as exc:
        given = ", ".join(f"{s.name}={list(s.example_shape)}" for s in specs)
        where = ""
        if active and active[-1][0]:
            path, mod, shapes = active[-1]
            shown = ", ".join(str(s) for s in shapes)
            where = f"; layer {path} ({_describe(mod)}) rejected input of shape {shown}"
        raise InputSpecError(
            f"the model rejected the example inputs ({given}){where}: {first_line(str(exc))}",
            hint="make --input match what the model's forward expects (shape and dtype)",
        ) from exc
    finally:
        for handle in handles:
            handle.remove()


def _describe(module: torch.nn.Module) -> str:
    extra = module.extra_repr()
    return f"{type(module).__name__}({extra})" if extra else type(module).__name__
