"""Dims torch.export bounded: the range is reported, parity tries just past it, and a failure
there is put down to the range (not to a baked size) only when the cases say so."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

import onnxproof
from onnxproof.results import CaseResult, ParityReport, RunReport


class _SeqChunk(torch.nn.Module):
    """Long sequences take a chunked path, as long-context models do."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc = torch.nn.Linear(8, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] > 16:
            chunks = x.split(16, dim=1)
            return torch.cat([self.fc(c) - c.mean(1, keepdim=True) for c in chunks], 1)
        return self.fc(x) - x.mean(1, keepdim=True)


class _BigBatch(torch.nn.Module):
    """Another path for batches over 8; ``same`` makes both paths compute the same values."""

    def __init__(self, *, bound: int = 8, same: bool = False, planted: bool = False) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc = torch.nn.Linear(8, 4)
        self.bound, self.scale, self.planted = bound, 1.0 if same else 2.0, planted

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.fc(x)
        if self.planted and torch.compiler.is_exporting():
            y = y + 1.0  # the file differs at every size, within the range too
        if x.shape[0] > self.bound:
            return y * self.scale
        return y


def _run(tmp_path: Path, model: torch.nn.Module, spec: str) -> RunReport:
    return onnxproof.run(model, inputs=[spec], output=tmp_path / "m.onnx", localize=False)


def _codes(report: RunReport) -> dict[str, str]:
    return {f.code: f.severity.value for f in report.findings}


def test_a_chunked_path_past_the_exported_range_fails_at_the_size_past_it(
    tmp_path: Path,
) -> None:
    report = _run(tmp_path, _SeqChunk(), "x:float32[batch,seq=8,8]")
    assert report.export is not None and report.export.exporter == "dynamo"
    seq = {r.name: r for r in report.export.dim_ranges}["seq"]
    assert seq.high == 16 and seq.source == "torch.export"
    assert report.status == "fail"  # it passed before: no size over 16 was ever tried
    assert report.verification is not None
    failing = {c.sizes["seq"] for c in report.verification.cases if not c.passed}
    assert failing == {17}
    assert all(c.passed for c in report.verification.cases if c.sizes["seq"] <= 16)
    past = [f for f in report.findings if f.code == "past-dim-range"]
    assert len(past) == 1 and past[0].severity.value == "error"
    assert (
        "dim 'seq' valid only in [" in past[0].message and "16] per torch.export" in past[0].message
    )
    assert "seq=17" in past[0].message
    # seq passed at 1, 2 and 7: it is not fixed to its example size.
    assert "baked-dimension" not in _codes(report)
    exported = {r["name"]: r for r in report.to_dict()["export"]["dim_ranges"]}
    assert exported["seq"]["high"] == 16 and exported["seq"]["source"] == "torch.export"


def test_a_big_batch_branch_fails_at_the_batch_past_the_bound(tmp_path: Path) -> None:
    report = _run(tmp_path, _BigBatch(), "x:float32[batch,8]")
    assert report.status == "fail"
    assert report.verification is not None
    assert {c.sizes["batch"] for c in report.verification.cases if not c.passed} == {9}
    codes = _codes(report)
    assert codes.get("past-dim-range") == "error" and "baked-dimension" not in codes
    message = next(f.message for f in report.findings if f.code == "past-dim-range")
    assert "8] per torch.export" in message and "batch=9" in message


def test_a_shape_branch_is_put_down_to_the_range_not_to_a_baked_size(tmp_path: Path) -> None:
    # `if x.shape[0] > 3`, example batch 2: batch 1 agrees, 4 and 7 do not.
    report = _run(tmp_path, _BigBatch(bound=3), "x:float32[batch,8]")
    assert report.verification is not None
    cases = report.verification.cases
    assert all(c.passed for c in cases if c.sizes["batch"] == 1)
    assert {c.sizes["batch"] for c in cases if not c.passed} == {4, 7}
    codes = _codes(report)
    assert "baked-dimension" not in codes  # batch=1 passed: batch is not fixed to 2
    message = next(f.message for f in report.findings if f.code == "past-dim-range")
    assert "3] per torch.export" in message and "batch=4, batch=7" in message


def test_a_range_whose_other_path_agrees_is_reported_as_info(tmp_path: Path) -> None:
    report = _run(tmp_path, _BigBatch(same=True), "x:float32[batch,8]")
    assert report.status == "pass"
    assert report.verification is not None
    assert any(c.sizes["batch"] == 9 and c.passed for c in report.verification.cases)
    codes = _codes(report)
    assert codes.get("dim-range") == "info" and "past-dim-range" not in codes
    message = next(f.message for f in report.findings if f.code == "dim-range")
    assert "dim 'batch' valid only in [" in message and "8] per torch.export" in message


def test_a_file_that_differs_within_the_range_too_is_not_put_down_to_it(tmp_path: Path) -> None:
    report = _run(tmp_path, _BigBatch(planted=True), "x:float32[batch,8]")
    assert report.status == "fail"
    codes = _codes(report)
    assert "past-dim-range" not in codes and codes.get("dim-range") == "info"


def test_the_cli_reports_the_range_in_json_and_on_the_terminal(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "net.py"
    source.write_text(
        "import torch\n\n\nclass Net(torch.nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.fc = torch.nn.Linear(8, 4)\n\n"
        "    def forward(self, x):\n        if x.shape[0] > 8:\n            return self.fc(x) * 2\n"
        "        return self.fc(x)\n"
    )
    out, report_path = tmp_path / "net.onnx", tmp_path / "r.json"
    result = cli(
        "run", f"{source}:Net", "--input", "x:float32[batch,8]", "-o", str(out),
        "--json", str(report_path),
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.report is not None
    ranges = result.report["export"]["dim_ranges"]
    assert [(r["name"], r["high"]) for r in ranges] == [("batch", 8)]
    failing = [c for c in result.report["verification"]["cases"] if not c["passed"]]
    assert failing and all(c["sizes"] == {"batch": 9} for c in failing)
    assert "past-dim-range" in result.stdout and "dim 'batch' valid only in [" in result.stdout
    exported = cli("export", f"{source}:Net", "--input", "x:float32[batch,8]", "-o", str(out))
    assert exported.exit_code == 0
    assert "range" in exported.stdout and "8] per torch.export" in exported.stdout


def _case(index: int, batch: int, draw: str, passed: bool) -> CaseResult:
    return CaseResult(
        index=index, sizes={"batch": batch}, draw=draw, passed=passed,
        failed_outputs=() if passed else ("y",),
    )  # fmt: skip


def test_baked_dimension_is_not_blamed_when_another_size_of_the_dim_passed() -> None:
    from onnxproof.linting.parity_rules import baked_by_parity

    draws = ("normal", "positive", "negative", "wide")
    sizes = [(2, True), (1, True), (7, False)]  # a shape branch over 3: batch 1 still agrees
    cases = [
        _case(i * len(draws) + j, batch, draw, passed)
        for i, (batch, passed) in enumerate(sizes)
        for j, draw in enumerate(draws)
    ]
    parity = ParityReport(
        runtime="ort-cpu", reference="torch", passed=False, atol=1e-4, rtol=1e-3,
        cases=tuple(cases), outputs=(),
    )  # fmt: skip
    assert list(baked_by_parity(parity, None)) == []
    # Without the passing size, every size but the example fails: that is a baked size.
    only_bad = dataclasses.replace(parity, cases=tuple(c for c in cases if c.sizes["batch"] != 1))
    found = list(baked_by_parity(only_bad, None))
    assert [f.code for f in found] == ["baked-dimension"] and "batch=7" in found[0].message
