"""Rules that read the parity results: output mismatch, runtime failures, baked dims, determinism."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import onnx

from onnxproof.linting._base import listed, make_finding, tensor_values
from onnxproof.linting.graph_rules import SHAPE_INPUTS, constants, walk
from onnxproof.linting.mask_rules import padded_dataset_findings, padded_position_findings
from onnxproof.linting.value_rules import judged_by_values, value_findings
from onnxproof.results import DatasetReport, Finding, ParityReport


def parity_findings(
    parity: ParityReport,
    model: onnx.ModelProto | None = None,
    baked_dims: Iterable[str] = (),
    *,
    diagnose_baked: bool = True,
) -> tuple[Finding, ...]:
    findings = [
        make_finding(
            "output-mismatch",
            f"output {o.name!r} on {parity.runtime} differs from {parity.reference}: "
            f"max abs diff {o.max_abs_diff:.3g} "
            f"(atol {o.atol:g}, rtol {o.rtol:g}; {o.mismatch_fraction:.1%} of elements outside)",
        )
        for o in parity.outputs
        if not o.passed and not judged_by_values(o)
    ]
    for o in parity.outputs:
        findings.extend(value_findings(o, f"on {parity.runtime}"))
    errors = [c for c in parity.cases if not c.passed and c.error and not c.failed_outputs]
    if errors:
        first = errors[0]
        sizes = ", ".join(f"{k}={v}" for k, v in first.sizes.items()) or "the example size"
        findings.append(
            make_finding(
                "runtime-failure",
                f"{parity.runtime} failed {len(errors)} case(s); first at {sizes}: {first.error}",
            )
        )
    findings.extend(padded_position_findings(parity))
    if diagnose_baked:
        findings.extend(baked_by_parity(parity, model, baked_dims))
    return tuple(findings)


def baked_by_parity(
    parity: ParityReport, model: onnx.ModelProto | None, known: Iterable[str] = ()
) -> Iterable[Finding]:
    """Passes at the example sizes, fails at others: the dims that changed behave as fixed.

    Evidence must single the size out: every draw passes at the example sizes, every draw
    fails at each size blamed, and no case passes with the dim at any other size. One draw
    failing at one size points at the values, not the size.
    ``known`` names dims already reported as baked (from the graph): they are not reported twice.
    """
    ran = [c for c in parity.cases if not c.skipped and c.index >= 0]
    if not ran:
        return
    example = ran[0].sizes
    at_example = [c for c in ran if c.sizes == example]
    elsewhere = [c for c in ran if c.sizes != example]
    if not at_example or not all(c.passed for c in at_example):
        return
    by_sizes: dict[tuple[tuple[str, int], ...], list[bool]] = {}
    for case in elsewhere:
        by_sizes.setdefault(tuple(sorted(case.sizes.items())), []).append(case.passed)
    all_failing = [dict(sizes) for sizes, passed in by_sizes.items() if not any(passed)]
    if not all_failing:
        return
    skip = set(known)
    for dim, size in example.items():
        # Evidence that singles the dim out: sizes where it alone left its example size. When
        # the dims only ever changed together, the failure is not pinned on any one of them.
        changed = [s for s in all_failing if _only_changed(s, example) == {dim}]
        bad = sorted({s[dim] for s in changed})
        if (
            not bad
            or dim in skip
            or any(c.passed and c.sizes.get(dim, size) != size for c in elsewhere)
        ):
            # A size other than the example that passed: the dim is not fixed (a branch on
            # the size, say, fails past some bound but not everywhere).
            continue
        suspects = shape_constants_with(model, size) if model is not None else []
        nodes = (
            f"; nodes holding {size} in a shape constant: {listed(suspects)}" if suspects else ""
        )
        yield make_finding(
            "baked-dimension",
            f"dim {dim!r} behaves as fixed to {size}: parity passes at {dim}={size} and fails "
            f"for every draw at {dim}={', '.join(map(str, bad))}{nodes}",
            node=suspects[0] if suspects else None,
        )


def _only_changed(sizes: dict[str, int], example: dict[str, int]) -> set[str]:
    return {d for d, v in sizes.items() if example.get(d) != v}


def shape_constants_with(model: onnx.ModelProto, size: int) -> list[str]:
    """Reshape/Expand/Tile/... nodes whose constant shape input contains ``size``."""
    known = constants(model)
    hits = []
    for node in walk(model.graph):
        index = SHAPE_INPUTS.get(node.op_type)
        if index is None or index >= len(node.input) or node.input[index] not in known:
            continue
        # No folder is known here, so a shape kept in external data is passed over, never
        # looked for relative to the working directory.
        values = tensor_values(known[node.input[index]], None)
        if (
            values is not None
            and np.issubdtype(values.dtype, np.integer)
            and size in values.ravel().tolist()
        ):
            hits.append(node.name or f"({node.op_type})")
    return hits


def nondeterminism_finding(runtime: str, outputs: list[str]) -> Finding:
    return make_finding(
        "nondeterministic",
        f"the same input through {runtime} twice gave different values for {listed(outputs)}",
    )


def data_findings(report: DatasetReport) -> tuple[Finding, ...]:
    """output-mismatch and runtime-failure on the user's data."""
    findings = [
        make_finding(
            "output-mismatch",
            f"on {report.source}: output {o.name!r} differs from PyTorch on {o.mismatch_fraction:.2%} of "
            f"elements (max abs {o.max_abs_diff:.3g}, p99 {o.p99_abs_diff:.3g}; worst sample "
            f"{o.worst_samples[0].index if o.worst_samples else '-'})",
        )
        for o in report.outputs
        if not o.passed and o.samples and not judged_by_values(o)
    ]
    for o in report.outputs:
        findings.extend(value_findings(o, f"on {report.source}", generated=False))
    findings.extend(padded_dataset_findings(report))
    if report.failed_batches:
        findings.append(
            make_finding(
                "runtime-failure",
                f"on {report.source}: {report.failed_batches} batch(es) failed to run; first: {report.errors[0]}",
            )
        )
    return tuple(findings)
