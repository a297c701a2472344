"""First-divergence localization: map PyTorch module calls to ONNX values, compare both sides once.

The exporters record which module each node came from: the dynamo exporter in the node metadata
``pkg.torch.onnx.name_scopes`` (['', 'blocks.3', 'blocks.3.fc', 'op']), the TorchScript exporter
in scoped node names ('/blocks.3/fc/Gemm', a repeated call as '/blocks.3/fc_1/Gemm'). The nodes
of one call of a module form one unbroken run in node order; the values that run produces for
nodes outside it (or for the graph's outputs) leave the module, in the order they are produced.

The PyTorch side (``runtimes.torch_eager.module_outputs``) lists, for every call, the tensors it
returned that later code reads, in the order they were made. Both are traced in the same order,
so the k-th value leaving the run is the k-th output leaving the call. Where the counts differ,
the calls cannot be told apart, or the paired shapes differ, the module is not compared (with the
reason) rather than paired by guess. The root is compared on the graph's outputs, by position.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import onnx

from onnxproof.checking import node_scopes
from onnxproof.results import Localization, ModuleError
from onnxproof.verification.metrics import compare
from onnxproof.verification.tolerance import TolerancePolicy

if TYPE_CHECKING:
    from onnxproof.runtimes.torch_eager import ModuleCall

#: How the root module is named in a localization (its path is '').
ROOT = "<root>"


@dataclass(frozen=True)
class _Run:
    """The nodes of one call of a module, and the values leaving them, in production order."""

    nodes: tuple[str, ...]
    own_nodes: tuple[str, ...]  # not inside any child module
    leaving: tuple[str, ...]


def module_runs(model: onnx.ModelProto, known: Collection[str] = ()) -> dict[str, list[_Run]]:
    """For each module path, the runs of its nodes in graph order: one run per call.

    A run ends at a node whose scope lies outside the module; nodes without any scope (added by
    an optimizer) neither end a run nor join one.
    """
    graph = model.graph
    scopes = [node_scopes(node, known) for node in graph.node]
    consumers: dict[str, set[int]] = {}
    for index, node in enumerate(graph.node):
        for name in _reads(node):
            consumers.setdefault(name, set()).add(index)
    graph_outputs = {o.name for o in graph.output}
    open_runs: dict[str, list[int]] = {}
    runs: dict[str, list[list[int]]] = {}
    for index, paths in enumerate(scopes):
        if paths is None:
            continue
        for path in [p for p in open_runs if p not in paths]:
            del open_runs[path]
        for path in paths:
            if path not in open_runs:
                open_runs[path] = []
                runs.setdefault(path, []).append(open_runs[path])
            open_runs[path].append(index)
    result: dict[str, list[_Run]] = {}
    for path, members_list in runs.items():
        result[path] = []
        for members in members_list:
            inside = set(members)
            leaving = tuple(
                out
                for i in members
                for out in graph.node[i].output
                if out and (out in graph_outputs or consumers.get(out, set()) - inside)
            )
            own = tuple(
                graph.node[i].name
                for i in members
                if not any(p.startswith(path + ".") for p in scopes[i] or ())
            )
            nodes = tuple(graph.node[i].name for i in members)
            result[path].append(_Run(nodes=nodes, own_nodes=own, leaving=leaving))
    return result


def _reads(node: onnx.NodeProto) -> Iterator[str]:
    """Values a node reads, including those its subgraphs (If, Loop, Scan) read from outside."""
    yield from node.input
    for attr in node.attribute:
        for sub in [attr.g, *attr.graphs] if attr.type in (5, 10) else ():
            for inner in sub.node:
                yield from _reads(inner)


def with_outputs(model: onnx.ModelProto, names: list[str]) -> onnx.ModelProto:
    """A copy of ``model`` that also outputs ``names`` (types left to the runtime)."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    present = {o.name for o in copy.graph.output}
    for name in names:
        if name not in present:
            copy.graph.output.append(onnx.ValueInfoProto(name=name))
            present.add(name)
    return copy


def run_with_outputs(
    model: onnx.ModelProto,
    names: list[str],
    run_onnx: Callable[[str], Mapping[str, np.ndarray]],
) -> Mapping[str, np.ndarray]:
    """One run of a temporary copy of ``model`` that also outputs ``names``."""
    fd, tmp = tempfile.mkstemp(suffix=".onnx")
    os.close(fd)
    try:
        onnx.save(with_outputs(model, names), tmp)
        return run_onnx(tmp)
    finally:
        os.unlink(tmp)


@dataclass
class _Plan:
    """One call to compare: its PyTorch outputs paired with ONNX values, or why not."""

    call: ModuleCall
    name: str
    pairs: list[tuple[str, str, np.ndarray]]  # (output name, ONNX value, PyTorch value)
    run: _Run | None
    reason: str | None = None


def localize(
    model: onnx.ModelProto,
    calls: Sequence[ModuleCall],
    run_onnx: Callable[[str], dict[str, np.ndarray]],
    *,
    policy: TolerancePolicy,
    case: str,
) -> Localization:
    """Compare every module call with its ONNX counterpart; ``run_onnx(path)`` runs a model file.

    ``calls`` come from ``TorchSession.module_outputs`` (completion order, the root last).
    """
    plans = _plan(model, calls)
    wanted = sorted({value for plan in plans for _, value, _ in plan.pairs})
    onnx_values = run_with_outputs(model, wanted, run_onnx)
    trail = [_compare(plan, onnx_values, policy) for plan in plans]
    index = next((i for i, entry in enumerate(trail) if entry.diverged), None)
    if index is None:
        return Localization(
            case=case,
            first_divergent_module=None,
            module_type=None,
            onnx_nodes=(),
            error=None,
            trail=tuple(trail),
            unmatched_modules=_unmatched(trail),
        )
    first, plan = trail[index], plans[index]
    return Localization(
        case=case,
        first_divergent_module=first.module,
        module_type=first.module_type,
        onnx_nodes=plan.run.nodes if plan.run else (),
        error=first.max_abs_diff,
        trail=tuple(trail),
        unmatched_modules=_unmatched(trail),
        divergent_output=first.output,
        divergent_code=plan.call.code,
        code_nodes=plan.run.own_nodes if plan.run else (),
        uncompared_inside=_uncompared_inside(plans, trail, index),
    )


def _plan(model: onnx.ModelProto, calls: Sequence[ModuleCall]) -> list[_Plan]:
    runs = module_runs(model, {c.path for c in calls if c.path})
    times = Counter(c.path for c in calls)
    seen: Counter[str] = Counter()
    plans = []
    for call in calls:
        if not call.path:
            plans.append(_plan_root(model, call))
            continue
        k = seen[call.path]
        seen[call.path] += 1
        plan = _Plan(call=call, name=call.path, pairs=[], run=None)
        plans.append(plan)
        found = runs.get(call.path, [])
        if not found:
            plan.reason = "no ONNX node carries its scope (fused, folded away or not recorded)"
            continue
        if len(found) != times[call.path]:
            plan.reason = (
                f"called {times[call.path]} times but its ONNX nodes form {len(found)} runs: "
                "the calls cannot be told apart"
            )
            continue
        plan.run = found[k]
        if len(plan.run.leaving) != len(call.outputs):
            plan.reason = (
                f"{len(plan.run.leaving)} ONNX values leave its nodes where {len(call.outputs)} "
                "of its outputs are read after it: they cannot be paired"
            )
            continue
        if not call.outputs:
            plan.reason = "none of its outputs is read after it"
            continue
        plan.pairs = [
            (name, value, reference)
            for (name, reference), value in zip(call.outputs, plan.run.leaving, strict=True)
        ]
    return plans


def _plan_root(model: onnx.ModelProto, call: ModuleCall) -> _Plan:
    """The model's own outputs against the graph's outputs, by position (as parity pairs them)."""
    outputs = [o.name for o in model.graph.output]
    own = tuple(
        n.name for n in model.graph.node if node_scopes(n, ()) == []
    )  # outside every module
    run = _Run(nodes=own, own_nodes=own, leaving=tuple(outputs))
    plan = _Plan(call=call, name=ROOT, pairs=[], run=run)
    if len(outputs) != len(call.outputs):
        plan.reason = f"the model returns {len(call.outputs)} tensors, the graph {len(outputs)}"
    else:
        plan.pairs = [
            (name, value, reference)
            for (name, reference), value in zip(call.outputs, outputs, strict=True)
        ]
    return plan


def _compare(plan: _Plan, values: Mapping[str, np.ndarray], policy: TolerancePolicy) -> ModuleError:
    if plan.reason is not None:
        return _uncompared(plan, plan.reason)
    worst: tuple[bool, float, float, str, str] | None = None
    for output, value, reference in plan.pairs:
        actual = values[value]
        if np.shape(actual) != reference.shape and plan.call.path:
            # A module value of another shape is not this output: the pairing is wrong.
            return _uncompared(
                plan,
                f"ONNX value {value} has shape {list(np.shape(actual))} where its output "
                f"{output} has {list(reference.shape)}: they cannot be paired",
            )
        key = value if not plan.call.path else plan.call.path
        atol, rtol = policy.for_output(key, str(reference.dtype))
        result = compare(actual, reference, atol=atol, rtol=rtol)
        figures = (not result.passed, result.max_abs_diff, result.max_rel_diff, output, value)
        if worst is None or figures[:2] > worst[:2]:
            worst = figures
    assert worst is not None
    diverged, max_abs, max_rel, output, value = worst
    return ModuleError(
        module=plan.name,
        module_type=plan.call.type_name,
        onnx_value=value,
        max_abs_diff=max_abs,
        max_rel_diff=max_rel,
        diverged=diverged,
        output=output,
        outputs_compared=len(plan.pairs),
    )


def _uncompared(plan: _Plan, reason: str) -> ModuleError:
    return ModuleError(
        module=plan.name,
        module_type=plan.call.type_name,
        onnx_value=None,
        max_abs_diff=None,
        max_rel_diff=None,
        diverged=None,
        reason=reason,
    )


def _unmatched(trail: list[ModuleError]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.module for m in trail if m.diverged is None))


def _uncompared_inside(plans: list[_Plan], trail: list[ModuleError], index: int) -> tuple[str, ...]:
    """Modules called inside the divergent call that could not be compared: it may lie there."""
    # Calls finish children first: those inside this call are the ones just before it.
    path = plans[index].call.path
    inside: list[str] = []
    for plan, entry in zip(plans[:index][::-1], trail[:index][::-1], strict=True):
        if path and not plan.call.path.startswith(path + "."):
            break
        if entry.diverged is None:
            inside.append(entry.module)
    return tuple(dict.fromkeys(reversed(inside)))


def unreproduced(
    policy: TolerancePolicy,
    plain: Mapping[str, np.ndarray],
    calls: Sequence[ModuleCall],
) -> str:
    """Why a case that failed showed no divergent module when run again with every module hooked.

    ``plain`` is PyTorch's output for the case without hooks (by output name, in output order);
    the root's call in ``calls`` is the same forward with the hooks on. When the two differ, the
    hooks changed what PyTorch computes (some modules take another path when hooked) and the
    comparison that failed was never repeated. When they agree, the file gave another answer with
    its intermediate values exposed than it did as written.
    """
    root = next((c for c in calls if not c.path), None)
    hooked = [value for _, value in root.outputs] if root is not None else []
    worst = 0.0
    differs = False
    if len(hooked) == len(plain):
        for (name, value), other in zip(plain.items(), hooked, strict=True):
            value = np.asarray(value)
            if value.shape != other.shape:
                differs = True
                continue
            atol, rtol = policy.for_output(name, str(value.dtype))
            result = compare(other, value, atol=atol, rtol=rtol)
            differs = differs or not result.passed
            worst = max(worst, result.max_abs_diff)
    else:
        differs = True
    if differs:
        return (
            "PyTorch computed this case differently with module hooks on (max abs "
            f"{worst:.3g} between the hooked and the plain run): the hooked run agrees with the "
            "file, so no module can be blamed from it. Some modules take another path when "
            "hooked (fused fast paths); compare their outputs by hand"
        )
    return (
        "with every module's value exposed as an output, the file agreed with PyTorch on this "
        "case although it failed as written: the runtime computes the instrumented file "
        "differently (an optimization the extra outputs prevent); try --runtime ort-cpu-noopt"
    )
