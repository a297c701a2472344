"""Terminal section of greedy decoding with a key/value cache."""

from __future__ import annotations

from typing import TYPE_CHECKING

from onnxproof.report._text import line, mark, paint, table

if TYPE_CHECKING:
    from onnxproof.results import GenerationReport


def render_generation(report: GenerationReport) -> list[str]:
    steps = len(report.eager_tokens)
    where = (
        "every step agrees"
        if report.first_divergent_step is None
        else f"step {report.first_divergent_step} diverges ({report.divergence})"
    )
    parts = [
        line(
            report.passed,
            "generate",
            f"{steps} greedy steps with the cache ({report.cache}) on {report.runtime}: {where}",
        ),
        paint(f"            step model: {report.onnx_path}", "dim"),
        f"    tokens eager: {' '.join(str(t) for t in report.eager_tokens)}",
        f"    tokens {report.runtime}: {' '.join(str(t) for t in report.onnx_tokens)}",
    ]
    rows = [
        [
            str(s.index),
            str(s.tokens_fed),
            f"{s.max_abs_diff:.2e}",
            f"{s.eager_token} / {s.onnx_token}",
            mark(s.passed and s.eager_token == s.onnx_token),
        ]
        for s in report.steps
    ]
    parts += table(rows, header=["step", "fed", "logits max abs", "tokens", ""], right=range(0, 3))
    if report.first_divergent_module:
        text = f"first divergent module on step {report.first_divergent_step}: "
        parts.append(f"    {text}{report.first_divergent_module}")
        if report.uncompared_before:
            before = ", ".join(report.uncompared_before)
            parts.append(
                paint(f"    not compared just before it (it may start there): {before}", "dim")
            )
    return parts
