"""Terminal sections of a run that only some runs have: data and localization."""

from __future__ import annotations

from typing import TYPE_CHECKING

from onnxproof.report._text import line, mark, paint, table

if TYPE_CHECKING:
    from onnxproof.results import DatasetReport, Localization


def render_data(data: DatasetReport) -> list[str]:
    header = f"{data.samples:,} samples in {data.batches} batches from {data.source}"
    if data.runtime is not None:
        header += f" on {data.runtime}"
    if data.engine != "local":
        header += f" via {data.engine} ({data.workers} workers)"
    if data.failed_batches:
        header += f"; {data.failed_batches} batch(es) failed to run"
    parts = [line(data.passed, "data", header)]
    rows = [
        [
            out.name,
            f"{out.max_abs_diff:.2e}",
            f"{out.mean_abs_diff:.2e}",
            f"{out.p99_abs_diff:.2e}",
            f"{out.rel_l2_error:.2e}",
            f"{out.cosine_similarity:.6f}",
            f"{out.mismatch_fraction:.2%}",
            ", ".join(str(w.index) for w in out.worst_samples[:3]) or "-",
            mark(out.passed),
        ]
        for out in data.outputs
    ]
    header_row = ["output", "max abs", "mean abs", "p99 abs", "rel L2", "cosine", "mismatch"]
    parts += table(rows, header=[*header_row, "worst samples", ""], right=range(1, 7))
    for out in data.outputs:
        if out.topk_agreement:
            agree = ", ".join(f"{k} {v:.2%}" for k, v in out.topk_agreement.items())
            parts.append(f"    {out.name}: PyTorch and ONNX predictions agree: {agree}")
    parts += [paint(f"    {error}", "red") for error in data.errors[:3]]
    return parts


def render_localization(loc: Localization) -> list[str]:
    if loc.unreproduced:
        return [line(None, "localize", f"inconclusive on {loc.case}: {loc.unreproduced}")]
    if loc.first_divergent_module is None:
        matched = sum(1 for m in loc.trail if m.diverged is not None)
        return [line(True, "localize", f"no module diverges ({matched} compared on {loc.case})")]
    shown = loc.code_nodes or loc.onnx_nodes
    nodes = ", ".join(shown[:6]) + (" …" if len(shown) > 6 else "")
    output = f" (output {loc.divergent_output})" if loc.divergent_output else ""
    parts = [
        line(
            False,
            "localize",
            f"first divergent module: {loc.first_divergent_module} ({loc.module_type}){output}, "
            f"max abs diff {loc.error:.3g} on {loc.case}"
            + (f"; ONNX nodes: {nodes}" if nodes else ""),
        )
    ]
    if loc.divergent_code:
        parts.append(f"            the difference is in {loc.divergent_code} (its children agree)")
    if loc.uncompared_inside:
        inside = ", ".join(loc.uncompared_inside[:6])
        parts.append(
            paint(f"            not compared inside it (it may lie there): {inside}", "dim")
        )
    start = next(i for i, m in enumerate(loc.trail) if m.module == loc.first_divergent_module)
    for entry in loc.trail[max(0, start - 1) : start + 6]:
        if entry.diverged is None:
            continue
        parts.append(
            f"    {mark(not entry.diverged)} {entry.module:<24} {entry.module_type:<14} "
            f"max abs {entry.max_abs_diff:.2e}"
        )
    if loc.unmatched_modules:
        unmatched = ", ".join(loc.unmatched_modules[:8])
        parts.append(paint(f"    no ONNX counterpart (fused or folded): {unmatched}", "dim"))
    return parts
