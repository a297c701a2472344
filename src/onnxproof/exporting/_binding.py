"""Inputs bound by name, as each exporter needs them.

The dynamo exporter takes ``kwargs=`` and ``dynamic_shapes`` keyed by parameter name. The
TorchScript exporter in torch 2.13 turns ``kwargs`` into positional arguments in signature order
(``_decide_input_format``), which a keyword-only parameter (``forward(x, *, mask=None)``)
refuses; so for it the forward is swapped, for the export only, for one that takes every input
by position and passes each on as the binding says.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

from onnxproof.binding import Binding
from onnxproof.specs import TensorSpec


def dynamic_shapes_by_name(
    specs: tuple[TensorSpec, ...], binding: Binding
) -> dict[str, Any] | None:
    """``dynamic_shapes`` for ``torch.export`` keyed by parameter name; inputs passed into
    ``*args`` are a tuple under its name, those passed into ``**kwargs`` a dict under its name.
    None when no dim is dynamic."""
    dims: dict[str, Any] = {}
    shapes: dict[str, Any] = {}
    for spec in specs:
        axes = {
            axis: dims.setdefault(name, torch.export.Dim(name))
            for axis, name in spec.dynamic_dims.items()
        }
        shapes[spec.name] = axes or None
    if not dims:
        return None
    named = binding.positional
    if binding.var_positional is not None and binding.named_positional is not None:
        named = binding.positional[: binding.named_positional]
    result: dict[str, Any] = {n: shapes[n] for n in named + binding.keywords}
    if binding.var_positional is not None:  # *args takes its shapes as one tuple, in order
        rest = binding.positional[len(named) :]
        result[binding.var_positional] = tuple(shapes[n] for n in rest)
    if binding.extras and binding.var_keyword is not None:
        result[binding.var_keyword] = {n: shapes[n] for n in binding.extras}
    return result


@contextlib.contextmanager
def positional_forward(module: torch.nn.Module, binding: Binding) -> Iterator[None]:
    """``module.forward`` takes the inputs by position in binding order while inside.

    An instance attribute, not a wrapper module: the module tree, its scopes and its weight
    names stay exactly as they are, which localization reads.
    """
    if not binding.by_name or not (binding.keywords or binding.extras):
        yield
        return
    had_own = "forward" in module.__dict__
    own = module.__dict__.get("forward")
    forward = module.forward
    order = binding.order

    def by_position(*values: Any) -> Any:
        return binding.call(forward, dict(zip(order, values, strict=True)))

    module.forward = by_position  # type: ignore[method-assign]
    try:
        yield
    finally:
        if had_own:
            module.forward = own  # type: ignore[method-assign,assignment]
        else:
            del module.forward
