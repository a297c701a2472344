from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from onnxproof.cli import app
from onnxproof.linting.codes import CODES, catalogue_markdown

DOC = Path(__file__).parents[2] / "docs" / "findings.md"


def test_findings_doc_is_generated_from_the_catalogue() -> None:
    assert DOC.read_text() == catalogue_markdown(), (
        "regenerate: python -m onnxproof.linting.codes > docs/findings.md"
    )


def test_issue_codes_are_all_in_the_catalogue() -> None:
    required = {
        "train-mode", "stochastic-op", "traced-control-flow", "baked-dimension", "static-shape",
        "nondeterministic", "float64", "external-data", "unsupported-op", "opset-too-new",
        "output-mismatch", "export-fallback",
    }  # fmt: skip
    assert required <= set(CODES)
    assert all(c.fix and c.summary for c in CODES.values())


def test_explain_prints_the_entry_and_rejects_unknown_codes() -> None:
    result = CliRunner().invoke(app, ["explain", "baked-dimension"])
    assert (
        result.exit_code == 0
        and "baked-dimension (error)" in result.stdout
        and "Fix:" in result.stdout
    )
    listing = CliRunner().invoke(app, ["explain"])
    assert listing.exit_code == 0 and "nondeterministic" in listing.stdout
    unknown = CliRunner().invoke(app, ["explain", "no-such-code"])
    assert unknown.exit_code == 2 and "unknown finding code 'no-such-code'" in unknown.stderr
