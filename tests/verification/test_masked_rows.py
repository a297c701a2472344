"""The fully masked row: a difference there alone is a warning, on other rows a failure."""

from __future__ import annotations

from pathlib import Path

import onnxproof
from tests import named_models

SPECS = ["x:float32[batch,seq=6,4]", "attention_mask:int64[batch,seq=6]"]


def test_difference_only_on_the_fully_masked_row_is_a_warning(tmp_path: Path) -> None:
    report = onnxproof.run(
        named_models.MaskedRowDivergence(), inputs=SPECS, output=tmp_path / "m.onnx"
    )
    assert report.status == "pass", report.findings
    found = [f for f in report.findings if f.code == "masked-row-mismatch"]
    assert len(found) == 1 and found[0].severity == "warning"
    assert "'output'" in found[0].message and "row(s) 0" in found[0].message
    assert report.verification is not None and report.verification.passed
    assert not any(f.code == "output-mismatch" for f in report.findings)
    # strict runs fail on the warning, as on any other
    strict = onnxproof.run(
        named_models.MaskedRowDivergence(),
        inputs=SPECS,
        output=tmp_path / "s.onnx",
        fail_on="warning",
    )
    assert strict.status == "fail"


def test_difference_on_rows_with_tokens_still_fails(tmp_path: Path) -> None:
    report = onnxproof.run(
        named_models.FullyMaskedShiftsAll(), inputs=SPECS, output=tmp_path / "f.onnx"
    )
    assert report.status == "fail"
    assert report.verification is not None and not report.verification.passed
    (case,) = [c for c in report.verification.cases if not c.passed]
    assert case.draw == "fully-masked-row" and case.failed_outputs == ("output",)
    assert any(f.code == "output-mismatch" for f in report.findings)
    assert not any(f.code == "masked-row-mismatch" for f in report.findings)


def test_no_mask_no_extra_case(tmp_path: Path) -> None:
    report = onnxproof.run(
        named_models.MaskedRowDivergence(),
        inputs=["x:float32[batch,seq=6,4]", "attention_mask:int64[batch,seq=6]{1..1}"],
        output=tmp_path / "n.onnx",
    )
    assert report.status == "pass"
    assert report.verification is not None
    assert all(c.draw != "fully-masked-row" for c in report.verification.cases)
    # The model differs on fully masked rows: had the extra case run, this warning would be here.
    codes = {f.code for f in report.findings}
    assert "masked-row-mismatch" not in codes and "inferred-padding-mask" not in codes
