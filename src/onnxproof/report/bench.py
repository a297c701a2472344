"""Terminal rendering of a benchmark: latency beside each runtime's verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING

from onnxproof.report._text import paint, table

if TYPE_CHECKING:
    from onnxproof.results import BenchReport

_VERDICT_STYLE = {"pass": "green", "fail": "red", "reference": "cyan"}


def render_bench(report: BenchReport) -> list[str]:
    batch = f" (batch = {report.batch_dim})" if report.batch_dim else " (no dynamic batch dim)"
    parts = [paint(f"onnxproof bench · {report.model}", "bold"), f"file: {report.onnx_path}{batch}"]
    if report.verification is not None and report.verification.status != "pass":
        parts.append(
            paint(
                f"verification: {report.verification.status.upper()} — a fast wrong runtime is "
                "no answer; see onnxproof run",
                "red",
            )
        )
    baseline = {r.batch: r.p50_ms for r in report.rows if r.runtime == "ort-cpu" and r.p50_ms}
    rows = []
    for r in report.rows:
        verdict = report.verdict_of(r.runtime)
        shown = paint(verdict, _VERDICT_STYLE.get(verdict, "yellow"))
        if r.error:
            rows.append([r.runtime, str(r.batch), "-", "-", "-", "-", "-", "-", shown])
            continue
        ratio = baseline.get(r.batch)
        rows.append(
            [
                r.runtime,
                str(r.batch),
                f"{r.p50_ms:.4f}",
                f"{r.p90_ms:.4f}",
                f"{r.p99_ms:.4f}",
                f"{r.throughput:,.0f}" if r.throughput else "-",
                f"{r.p50_ms / ratio:.2f}x" if ratio and r.p50_ms else "-",
                f"{r.load_seconds:.3f}" if r.load_seconds is not None else "-",
                shown,
            ]
        )
    header = ["runtime", "batch", "p50 ms", "p90 ms", "p99 ms", "samples/s", "vs ort-cpu"]
    parts += table(rows, header=[*header, "load s", "verdict"], right=range(1, 8))
    parts += [paint(f"  {r.runtime}: {r.error}", "yellow") for r in report.rows if r.error][:6]
    iterations = sorted({r.iterations for r in report.rows if r.iterations})
    parts.append(
        paint(
            f"iterations per row: {', '.join(map(str, iterations)) or '-'}; settings: "
            f"{report.settings}",
            "dim",
        )
    )
    return parts
