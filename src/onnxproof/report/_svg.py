"""Inline SVG charts for the HTML report: an error histogram and the localization trail.

Hand-made rather than drawn with matplotlib: two small charts do not justify a ~40 MB dependency
(and its font cache) in every install, the markup stays a few kilobytes, and the colours come
from the page's CSS classes, so the charts follow the light, dark and print styles. Both use a
fixed ``viewBox`` and scale to the column's width.
"""

from __future__ import annotations

import math
from html import escape
from typing import TYPE_CHECKING

from onnxproof.report._checks import fmt

if TYPE_CHECKING:
    from onnxproof.results import ErrorHistogram, Localization

WIDTH = 440
_FONT = 12


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _decade_label(log10: float) -> str:
    return f"1e{round(log10)}"


def histogram_svg(histogram: ErrorHistogram, *, atol: float, label: str) -> str:
    """Bars of element counts per |a - b| bin (log x, log y), with the atol line.

    Only the bins from the smallest to the largest non-empty one (and the atol) are drawn, so
    the bars stay wide enough to read on a phone; zeros, values below the first edge and values
    past the last edge get their own bars when there are any.
    """
    counts = list(histogram.counts)
    edges = [math.log10(e) for e in histogram.edges]
    used = [i for i, c in enumerate(counts) if c]
    lo, hi = (min(used), max(used)) if used else (0, len(counts) - 1)
    if atol > 0:
        at = min(len(counts) - 1, max(0, _bin_of(edges, math.log10(atol))))
        lo, hi = min(lo, at), max(hi, at)
    lo, hi = max(0, lo - 1), min(len(counts) - 1, hi + 1)
    bars: list[tuple[str, int, float | None, float | None]] = []  # text, count, low, high
    if histogram.zeros:
        bars.append(("0", histogram.zeros, None, 0.0))
    if histogram.below:
        bars.append((f"<{_decade_label(edges[0])}", histogram.below, None, edges[0]))
    bars += [("", counts[i], edges[i], edges[i + 1]) for i in range(lo, hi + 1)]
    if histogram.above:
        bars.append((f"≥{_decade_label(edges[-1])}", histogram.above, edges[-1], None))

    left, right, top, bottom = 46, 8, 24, 34
    height = 190
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    slot = plot_w / len(bars)
    peak = math.log10(1 + max((b[1] for b in bars), default=1))
    log_atol = math.log10(atol) if atol > 0 else None
    parts = [
        f'<svg class="chart histogram" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-size="{_FONT}">',
        f"<title>{escape(label)}</title>",
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{WIDTH - right}" '
        f'y2="{top + plot_h}"/>',
        f'<text class="muted" x="{left - 4}" y="{top + 4}" text-anchor="end">'
        f"{max((b[1] for b in bars), default=0):,}</text>",
        f'<text class="muted" x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>',
        f'<text class="muted" x="{left}" y="{top - 10}">elements (log scale) by |a − b|</text>',
    ]
    for i, (text, count, low, high) in enumerate(bars):
        x = left + i * slot
        bar_h = plot_h * math.log10(1 + count) / peak if peak else 0.0
        if count:
            bar_h = max(bar_h, 2.0)  # a single element must still show
        if log_atol is None:  # compared exactly: any difference is a mismatch
            beyond = high != 0.0
        else:  # the whole bin lies past atol (rtol·|b| may still admit it)
            beyond = low is not None and low >= log_atol - 1e-9
        css = "bar over" if beyond else "bar ok"
        span = _span_text(low, high)
        if count:  # an empty bin keeps its slot on the axis, and draws nothing
            parts.append(
                f'<rect class="{css}" x="{_num(x + 1)}" y="{_num(top + plot_h - bar_h)}" '
                f'width="{_num(max(slot - 2, 1))}" height="{_num(bar_h)}">'
                f"<title>{count:,} elements with {escape(span)}</title></rect>"
            )
        if text:
            parts.append(
                f'<text class="muted" x="{_num(x + slot / 2)}" y="{top + plot_h + 14}" '
                f'text-anchor="middle">{escape(text)}</text>'
            )
    # decade ticks under the binned bars
    first_binned = next((i for i, b in enumerate(bars) if b[0] == "" and b[2] is not None), None)
    if first_binned is not None:
        step = 1 if hi - lo <= 16 else 2
        for k in range(lo, hi + 2):
            if abs(edges[k] - round(edges[k])) > 1e-9 or round(edges[k]) % step:
                continue
            x = left + (first_binned + (k - lo)) * slot
            parts.append(
                f'<line class="tick" x1="{_num(x)}" y1="{top + plot_h}" x2="{_num(x)}" '
                f'y2="{top + plot_h + 4}"/>'
                f'<text class="muted" x="{_num(x)}" y="{top + plot_h + 26}" '
                f'text-anchor="middle">{_decade_label(edges[k])}</text>'
            )
        if log_atol is not None and edges[lo] <= log_atol <= edges[hi + 1]:
            offset = (log_atol - edges[lo]) / (edges[hi + 1] - edges[lo]) * (hi - lo + 1)
            x = left + (first_binned + offset) * slot
            parts.append(
                f'<line class="tolerance" x1="{_num(x)}" y1="{top - 4}" x2="{_num(x)}" '
                f'y2="{top + plot_h}"/>'
                f'<text class="tolerance-label" x="{_num(min(x + 3, WIDTH - 70))}" '
                f'y="{top + 8}">atol {atol:g}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _bin_of(edges: list[float], log10: float) -> int:
    return next((i for i in range(len(edges) - 1) if log10 < edges[i + 1]), len(edges) - 2)


def _span_text(low: float | None, high: float | None) -> str:
    if high == 0.0:
        return "|a − b| = 0"
    if low is None:
        return f"0 < |a − b| < 1e{_num(high or 0)}"
    if high is None:
        return f"|a − b| ≥ 1e{_num(low)} (infinite included)"
    return f"{10**low:.2g} ≤ |a − b| < {10**high:.2g}"


#: Rows the localization chart draws at most: a window around the first divergent module.
MAX_ROWS = 40


def localization_svg(loc: Localization, *, atol: float) -> str:
    """One row per module in execution order: its max abs diff against ONNX on a log axis, the
    first divergent module marked, modules with no ONNX counterpart said so."""
    trail = list(loc.trail)
    start = 0
    if len(trail) > MAX_ROWS:
        first = next((i for i, m in enumerate(trail) if m.module == loc.first_divergent_module), 0)
        start = max(0, min(first - 8, len(trail) - MAX_ROWS))
        trail = trail[start : start + MAX_ROWS]
    hidden_before, hidden_after = start, len(loc.trail) - start - len(trail)
    values = [m.max_abs_diff for m in trail if m.max_abs_diff and math.isfinite(m.max_abs_diff)]
    positive = [v for v in values if v > 0] + ([atol] if atol > 0 else [])
    lo = math.floor(math.log10(min(positive))) - 1 if positive else -8
    hi = math.ceil(math.log10(max(positive))) if positive else 0
    lo, hi = max(lo, -14), max(hi, lo + 1)

    row_h, top = 20, 38
    label_w, value_w = 168, 64
    bar_x0, bar_x1 = label_w + 6, WIDTH - value_w - 4
    extra = (1 if hidden_before else 0) + (1 if hidden_after else 0)
    height = top + row_h * (len(trail) + extra) + 26

    def x_of(value: float) -> float:
        if value <= 0:
            return bar_x0
        if not math.isfinite(value):
            return bar_x1
        frac = (math.log10(value) - lo) / (hi - lo)
        return bar_x0 + max(0.0, min(1.0, frac)) * (bar_x1 - bar_x0)

    label = (
        f"max abs difference of each module's output, first divergent: "
        f"{loc.first_divergent_module or 'none'}"
    )
    parts = [
        f'<svg class="chart trail" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" font-size="{_FONT}">',
        f"<title>{escape(label)}</title>",
        f'<text class="muted" x="{bar_x0}" y="12">max |a − b| per module (log scale)</text>',
    ]
    y = top
    if hidden_before:
        parts.append(
            f'<text class="muted" x="{label_w}" y="{y + 14}" text-anchor="end">'
            f"… {hidden_before} earlier modules</text>"
        )
        y += row_h
    for entry in trail:
        is_first = entry.module == loc.first_divergent_module
        name = _shorten(entry.module, 24)
        marker = "▶ " if is_first else ""
        parts.append(
            f'<text class="{"first-label" if is_first else "label"}" x="{label_w}" '
            f'y="{y + 14}" text-anchor="end">{escape(marker + name)}'
            f"<title>{escape(entry.module)} ({escape(entry.module_type)})</title></text>"
        )
        if entry.diverged is None or entry.max_abs_diff is None:
            parts.append(
                f'<text class="muted" x="{bar_x0}" y="{y + 14}" font-style="italic">'
                "no ONNX counterpart</text>"
            )
        else:
            css = "bar first" if is_first else ("bar over" if entry.diverged else "bar ok")
            end = x_of(entry.max_abs_diff)
            parts.append(
                f'<rect class="{css}" x="{bar_x0}" y="{y + 4}" '
                f'width="{_num(max(end - bar_x0, 1.5))}" height="{row_h - 8}">'
                f"<title>{escape(entry.module)}: max abs diff "
                f"{escape(fmt(entry.max_abs_diff, '.3g'))}</title></rect>"
                f'<text class="value" x="{WIDTH - 2}" y="{y + 14}" text-anchor="end">'
                f"{escape(fmt(entry.max_abs_diff, '.1e'))}</text>"
            )
        y += row_h
    if hidden_after:
        parts.append(
            f'<text class="muted" x="{label_w}" y="{y + 14}" text-anchor="end">'
            f"… {hidden_after} later modules</text>"
        )
        y += row_h
    parts.append(
        f'<line class="axis" x1="{bar_x0}" y1="{y + 2}" x2="{bar_x1}" y2="{y + 2}"/>'
        f'<text class="muted" x="{bar_x0}" y="{y + 16}">1e{lo}</text>'
        f'<text class="muted" x="{bar_x1}" y="{y + 16}" text-anchor="end">1e{hi}</text>'
    )
    if atol > 0:
        x = x_of(atol)
        parts.append(
            f'<line class="tolerance" x1="{_num(x)}" y1="{top - 6}" x2="{_num(x)}" y2="{y + 2}"/>'
            f'<text class="tolerance-label" x="{_num(x + 3)}" y="{top - 8}">atol {atol:g}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _shorten(text: str, width: int) -> str:
    """At most ``width`` characters, the middle elided: both ends of a module path tell."""
    if len(text) <= width:
        return text
    keep = width - 1
    return text[: keep // 2] + "…" + text[-(keep - keep // 2) :]
