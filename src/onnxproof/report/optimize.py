"""Terminal rendering of ``optimize``: one row per variant beside the float file, then why each
failing variant failed and what its retries traded."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from onnxproof.report._text import paint, table

if TYPE_CHECKING:
    from onnxproof.results import GateCheck, OptimizeReport, VariantResult

_STYLE = {"pass": "green", "fail": "red", "error": "yellow", "reference": "cyan"}


def render_optimize(report: OptimizeReport) -> list[str]:
    parts = [
        paint(f"onnxproof optimize · {report.onnx_path}", "bold"),
        f"reference: {report.reference}",
        f"data: {report.data}",
    ]
    if report.baseline is not None and not report.baseline.passed:
        parts.append(
            paint(
                "the float file itself is not elementwise within float32's tolerance of the "
                "model on these samples (onnxproof verify shows why)",
                "yellow",
            )
        )
    rows = [
        [
            "fp32",
            f"{report.size_bytes:,}",
            "1.00x",
            _ms(report.p50_ms),
            "1.00x",
            "-",
            paint("reference", "cyan") if report.model is None else "input",
            "-",
        ]
    ]
    rows += [_row(v) for v in report.variants]
    header = ["variant", "bytes", "size", "p50 ms", "speed-up", "gate", "verdict", "excluded"]
    parts += table(rows, header=header, right=range(1, 5))
    for variant in report.variants:
        parts += _why(variant)
    if report.best is not None:
        best = next(v for v in report.variants if v.name == report.best)
        parts.append(paint(f"best: {best.name} → {best.written}", "green"))
    else:
        parts.append(paint("no variant passed its gate: nothing was written", "red"))
    parts.append(
        paint(
            "size = variant / fp32 file; p50 on ort-cpu with the first evaluation batch; only "
            "variants that pass their gate are written",
            "dim",
        )
    )
    return parts


def _row(v: VariantResult) -> list[str]:
    gate = "; ".join(_check(c) for c in v.gate if c.metric != "finite" or not c.passed)
    excluded = ", ".join(v.excluded) if v.excluded else "-"
    return [
        v.name,
        f"{v.size_bytes:,}" if v.size_bytes is not None else "-",
        f"{v.size_ratio:.2f}x" if v.size_ratio is not None else "-",
        _ms(v.p50_ms),
        f"{v.speedup:.2f}x" if v.speedup is not None else "-",
        gate or (v.error or "-")[:60],
        paint(v.verdict, _STYLE[v.verdict]),
        excluded if len(excluded) < 40 else f"{len(v.excluded)} nodes",
    ]


def _check(c: GateCheck) -> str:
    sign = "<=" if c.metric == "rel_l2" else ">="
    if c.metric == "no-overflow":
        return "no overflow" if c.passed else f"{int(c.value)} overflow(s)"
    value = f"{c.value:.4g}" if math.isfinite(c.value) else str(c.value)
    text = f"{c.metric} {value}"
    return text if c.passed else f"{text} (needs {sign} {c.threshold:g})"


def _why(v: VariantResult) -> list[str]:
    """The drift behind each failed round and the trade-off of each retry."""
    if len(v.rounds) == 1 and v.verdict == "pass":
        return []
    lines = [paint(f"{v.name}:", "bold")]
    for r in v.rounds:
        gate = "; ".join(_check(c) for c in r.gate if c.metric != "finite" or not c.passed)
        size = f"{r.size_bytes:,} bytes" if r.size_bytes is not None else "-"
        kept = f"{len(r.excluded)} node(s) kept in float" if r.excluded else "as built"
        lines.append(
            f"  round {r.round} ({kept}): {paint(r.verdict, _STYLE[r.verdict])} · {size} · "
            f"p50 {_ms(r.p50_ms)} ms · {gate or r.error or '-'}"
        )
        drift = r.drift
        if r.verdict == "fail" and drift is not None:
            if drift.first is not None:
                first = drift.first
                module = f" (module {first.module})" if first.module else " (no module recorded)"
                lines.append(
                    f"    first drifted node: {first.node} [{first.op_type}] → {first.tensor}"
                    f"{module}, SQNR {first.sqnr_db:g} dB < {drift.threshold_db:g} dB"
                )
            else:
                lines.append(
                    f"    no node's output fell below {drift.threshold_db:g} dB SQNR on "
                    f"{drift.samples} samples"
                )
            if drift.overflowed:
                names = ", ".join(d.tensor for d in drift.overflowed[:5])
                lines.append(f"    float16 overflow (inf/NaN) in: {names}")
            if drift.blame_reason:
                lines.append(paint(f"    next: keep in float {', '.join(drift.blamed)}", "dim"))
    if v.kept:
        lines.append(
            paint(
                f"  {v.kept} is not a variant onnxproof wrote (no onnxproof.variant mark): "
                "left as it is",
                "yellow",
            )
        )
    return lines


def _ms(value: float | None) -> str:
    return f"{value:.4f}" if value is not None else "-"
