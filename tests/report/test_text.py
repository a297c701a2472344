"""Plain-text tables: aligned on visible width whatever colour codes a cell holds."""

from __future__ import annotations

from onnxproof.report._text import mark, paint, plain, table


def test_columns_align_on_visible_width() -> None:
    rows = [["a", paint("1.0", "red"), mark(True)], ["longer", "22.5", mark(False)]]
    lines = [plain(line) for line in table(rows, header=["name", "value", ""], right=[1])]
    assert lines == [
        "name    value",
        "a         1.0  ✓",
        "longer   22.5  ✗",
    ]


def test_plain_strips_every_colour_code() -> None:
    assert plain(paint("FAIL", "bold red") + " " + mark(None)) == "FAIL –"
