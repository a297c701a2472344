"""The range of each dynamic dim in an exported program: what sizes the graph was made for.

torch.export bounds a dim when the model's code branches on it (``if x.shape[1] > 16``): the
graph holds the branch the example took, valid only inside ``range_constraints``. The spec
declares the dim fully dynamic, so the range is read back here to be reported and tested past.
"""

from __future__ import annotations

import logging
from typing import Any

from onnxproof.results import DimRange
from onnxproof.specs import TensorSpec

log = logging.getLogger(__name__)


def dim_ranges(program: Any, specs: tuple[TensorSpec, ...]) -> tuple[DimRange, ...]:
    """Each dynamic dim of ``specs`` whose size is one symbol of ``program`` (an
    ``ExportedProgram``), with that symbol's range; () when the program cannot be read so.

    The user inputs are matched to the specs by position (both follow the forward's order).
    """
    try:
        return _read(program, specs)
    except Exception as exc:  # a report of the file, never a reason to refuse it
        log.info("no dim ranges read from the exported program: %s: %s", type(exc).__name__, exc)
        return ()


def _read(program: Any, specs: tuple[TensorSpec, ...]) -> tuple[DimRange, ...]:
    constraints = program.range_constraints
    placeholders = {n.name: n for n in program.graph.nodes if n.op == "placeholder"}
    user_inputs = list(program.graph_signature.user_inputs)
    if len(user_inputs) != len(specs):  # nested or None inputs: no safe pairing
        return ()
    found: dict[str, DimRange] = {}
    for spec, input_name in zip(specs, user_inputs, strict=True):
        node = placeholders.get(input_name)
        shape = getattr(node.meta.get("val"), "shape", None) if node is not None else None
        if shape is None or len(shape) != len(spec.dims):
            continue
        for axis, dim_name in spec.dynamic_dims.items():
            expr = getattr(getattr(shape[axis], "node", None), "expr", None)
            bounds = constraints.get(expr) if expr is not None else None
            if bounds is None or dim_name in found:
                continue
            found[dim_name] = DimRange(
                name=dim_name, low=_finite(bounds.lower) or 0, high=_finite(bounds.upper)
            )
    return tuple(found.values())


def _finite(bound: Any) -> int | None:
    # torch's int_oo says is_finite=True; is_Integer is False for it and for sympy's oo alike.
    return int(bound) if getattr(bound, "is_Integer", False) else None
