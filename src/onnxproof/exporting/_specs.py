"""Input specs derived from example tensors (Python API) or from a saved torch.export program."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from onnxproof.errors import InputSpecError
from onnxproof.specs import DEFAULT_DYNAMIC_SIZE, Dim, TensorSpec

_DTYPES = {
    torch.float32: "float32",
    torch.float16: "float16",
    torch.bfloat16: "bfloat16",
    torch.float64: "float64",
    torch.int64: "int64",
    torch.int32: "int32",
    torch.int16: "int16",
    torch.int8: "int8",
    torch.uint8: "uint8",
    torch.bool: "bool",
}


def specs_from_example(
    args: tuple[Any, ...], *, program: Any = None, names: Sequence[str] | None = None
) -> tuple[TensorSpec, ...]:
    """One spec per tensor: the first dim is a dynamic ``batch``, the rest static.

    Inputs are called ``names`` (the forward's parameters) when there is one for each, else
    ``input`` / ``input_0``, ``input_1``, ...

    Integer inputs get the example's own value range so generated ids stay valid. For a saved
    ``torch.export`` program the dims it already made symbolic are used instead.
    """
    symbolic = _program_dims(program) if program is not None else None
    own = list(names)[: len(args)] if names is not None and len(names) >= len(args) else None
    specs = []
    for index, arg in enumerate(args):
        if not isinstance(arg, torch.Tensor):
            raise InputSpecError(
                f"example input {index} is a {type(arg).__name__}, not a tensor",
                hint="pass tensors in forward-argument order, or give input specs",
            )
        if arg.dtype not in _DTYPES:
            raise InputSpecError(f"example input {index} has unsupported dtype {arg.dtype}")
        dtype = _DTYPES[arg.dtype]
        if symbolic is not None:
            dims = tuple(
                Dim(size=int(size), name=symbolic[index][axis])
                for axis, size in enumerate(arg.shape)
            )
        else:
            dims = tuple(
                Dim(size=max(int(size), DEFAULT_DYNAMIC_SIZE), name="batch")
                if axis == 0
                else Dim(size=int(size))
                for axis, size in enumerate(arg.shape)
            )
        value_range = None
        if dtype.startswith(("int", "uint")) and arg.numel():
            value_range = (float(arg.min()), float(arg.max()))
        specs.append(
            TensorSpec(
                name=own[index] if own else f"input_{index}" if len(args) > 1 else "input",
                dtype=dtype,
                dims=dims,
                value_range=value_range,
            )
        )
    return tuple(specs)


def _program_dims(program: Any) -> list[list[str | None]]:
    dims: list[list[str | None]] = []
    user_inputs = set(program.graph_signature.user_inputs)
    for node in program.graph.nodes:
        if node.op != "placeholder" or node.name not in user_inputs:
            continue
        value = node.meta.get("val")
        shape = getattr(value, "shape", ())
        dims.append([None if isinstance(s, int) else str(s) for s in shape])
    return dims
