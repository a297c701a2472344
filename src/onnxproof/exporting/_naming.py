"""Give a graph's inputs and outputs the names asked for, without defining any name twice.

The dynamo exporter names intermediate values after the modules and ops that make them
(``embedding``, ``linear``, ``relu``) and then renames the graph inputs and outputs blindly, so an
output key such as ``linear`` defines ``linear`` twice and the file breaks ONNX's single static
assignment rule. Here the values that stand in the way are renamed first.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Sequence

import onnx_ir as ir
from onnx_ir.passes.common import OutputFixPass

log = logging.getLogger(__name__)


def distinct_output_names(
    input_names: Sequence[str], output_names: Sequence[str]
) -> tuple[str, ...]:
    """``output_names`` with any that repeat an input name (or each other) made unique.

    An input and an output are different values and ONNX gives each value one name, so an output
    called like an input becomes ``<name>_out``; the input keeps the name the feeds use.
    """
    taken = set(input_names)
    names: list[str] = []
    for name in output_names:
        unique = name
        if unique in taken:
            unique = _fresh(f"{name}_out", taken | set(output_names))
            log.warning("output %r is named like an input; the file calls it %r", name, unique)
        taken.add(unique)
        names.append(unique)
    return tuple(names)


def name_graph_io(model: ir.Model, input_names: Sequence[str], output_names: Sequence[str]) -> None:
    """Rename ``model``'s graph inputs and outputs in place, renaming clashing values first."""
    graph = model.graph
    if len(set(input_names) | set(output_names)) != len(input_names) + len(output_names):
        raise ValueError(f"graph names must differ: {list(input_names)} {list(output_names)}")
    # A graph input returned as an output, or one value returned twice, cannot carry two names:
    # the pass puts an Identity in between so each output is a value of its own.
    OutputFixPass()(model)
    wanted = {
        **dict(zip(graph.inputs, input_names, strict=False)),
        **dict(zip(graph.outputs, output_names, strict=False)),
    }
    names = set(wanted.values())
    in_use = {value.name for value in _values(graph) if value.name} | names
    for value in _values(graph):
        if value not in wanted and value.name in names:
            value.name = _fresh(value.name, in_use)
            in_use.add(value.name)
    for value, name in wanted.items():
        value.name = name


def _values(graph: ir.Graph) -> Iterator[ir.Value]:
    """Every value defined in ``graph`` and its subgraphs, which share one namespace."""
    for g in itertools.chain((graph,), graph.subgraphs()):
        yield from g.inputs
        yield from g.initializers.values()
        for node in g:
            yield from node.outputs


def _fresh(base: str, taken: set[str]) -> str:
    name, n = base, 0
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name
