"""NaN and inf in PyTorch's output: agreeing non-finite pairs prove nothing, so they are never
counted as compared, and an output with nothing else to compare is never a pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

import onnxproof
from onnxproof.report.junit import render_junit
from onnxproof.report.terminal import render_parity
from onnxproof.verification.metrics import compare

SPEC = ["x:float32[batch,8]"]


class AllNaN(nn.Module):
    """NaN in every element, on both sides."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x) * float("nan")


class PlantedUnderNaN(nn.Module):
    """The export is planted +1.0 off, but the log of a negative value makes both sides NaN."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.fc(x)
        if torch.compiler.is_exporting() or torch.onnx.is_in_onnx_export():
            y = y + 1.0
        return torch.log(y - 1e6)


class SqrtColumn(nn.Module):
    """Four linear columns and sqrt(x0): NaN in that column wherever x0 < 0 (faithful export)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.fc(x), torch.sqrt(x[:, :1])], dim=1)


class SqrtAll(nn.Module):
    """sqrt of every input: all NaN on the negative draw, finite on the positive one."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sqrt(x) * 2.0


def test_nan_pairs_are_counted_apart_not_as_compared_elements() -> None:
    ref = np.array([np.nan, np.inf, -np.inf, 1.0, np.nan], dtype=np.float32)
    got = np.array([np.nan, np.inf, -np.inf, 1.0, 2.0], dtype=np.float32)
    c = compare(got, ref, atol=1e-4, rtol=1e-3)
    assert c.elements == 2 and c.nonfinite_pairs == 3 and c.reference_nonfinite == 4
    assert c.mismatches == 1  # NaN on one side only still fails
    assert c.histogram is not None and c.histogram[0] == 1  # only the true zero (1.0 vs 1.0)
    everywhere = np.full(6, np.nan, np.float32)
    nothing = compare(everywhere, everywhere.copy(), atol=1e-4, rtol=1e-3)
    assert nothing.elements == 0 and nothing.nonfinite_pairs == 6
    assert nothing.histogram is not None and nothing.histogram[0] == 0


def test_output_nan_everywhere_is_never_a_pass(tmp_path: Path) -> None:
    for name, model in (("all", AllNaN()), ("planted", PlantedUnderNaN())):
        report = onnxproof.run(model, inputs=SPEC, output=tmp_path / f"{name}.onnx")
        assert report.status == "fail", (name, report.findings)
        assert report.verification is not None
        (out,) = report.verification.outputs
        assert out.reference_all_nonfinite and not out.passed
        assert out.compared_elements == 0 and out.cases_reference_nan == len(
            report.verification.cases
        )
        assert out.histogram is None or out.histogram.zeros == 0
        assert "PyTorch gave NaN/inf" in "\n".join(render_parity(report.verification))
        parity_step = next(s for s in report.steps if s.name == "parity")
        assert parity_step.state == "fail" and "nothing compared" in parity_step.detail
        found = [f for f in report.findings if f.code == "reference-not-finite"]
        assert len(found) == 1 and found[0].severity == "error"
        assert "'output'" in found[0].message and "--data" in found[0].message
        # no element was out of tolerance: output-mismatch would misstate what happened
        assert not any(f.code == "output-mismatch" for f in report.findings)
        # the shared reports say the same, not "0.00% of 0 elements beyond atol"
        junit = render_junit(report)
        assert "NaN or inf in every element" in junit and "of 0 elements" not in junit


def test_nan_on_other_runtimes_is_never_a_pass(tmp_path: Path) -> None:
    report = onnxproof.run(
        AllNaN(), inputs=SPEC, output=tmp_path / "r.onnx", runtimes=("ort-cpu", "onnx-reference")
    )
    assert report.status == "fail"
    assert [r.runtime for r in report.runtimes] == ["ort-cpu", "onnx-reference"]
    for parity in report.runtimes:
        assert not parity.passed and parity.outputs[0].reference_all_nonfinite


def test_partly_nan_reference_warns_with_the_fraction_and_still_judges(tmp_path: Path) -> None:
    report = onnxproof.run(SqrtColumn(), inputs=SPEC, output=tmp_path / "s.onnx")
    assert report.status == "pass", report.findings
    assert report.verification is not None
    (out,) = report.verification.outputs
    assert out.passed and out.compared_elements > 0 and out.nonfinite_pairs > 0
    assert 0.01 < out.reference_nonfinite_fraction < 0.2  # one column of five, about half NaN
    (warning,) = [f for f in report.findings if f.code == "reference-partly-not-finite"]
    assert warning.severity == "warning"
    assert f"{out.reference_nonfinite_fraction:.1%}" in warning.message
    data = report.to_dict()["verification"]["outputs"][0]
    assert data["nonfinite_pairs"] == out.nonfinite_pairs
    assert data["reference_all_nonfinite"] is False


def test_case_with_an_all_nan_reference_is_not_compared(tmp_path: Path) -> None:
    report = onnxproof.run(SqrtAll(), inputs=SPEC, output=tmp_path / "q.onnx")
    assert report.verification is not None
    (out,) = report.verification.outputs
    negative = [c for c in report.verification.cases if c.draw == "negative"]
    assert out.cases_reference_nan == len(negative) > 0
    assert out.cases_compared == len(report.verification.cases) - len(negative)
    assert out.passed and not out.reference_all_nonfinite and report.status == "pass"
    shown = "\n".join(render_parity(report.verification))
    assert f"{len(negative)} case(s) not compared (PyTorch gave NaN)" in shown


def test_data_nan_everywhere_is_never_a_pass(tmp_path: Path) -> None:
    x = np.random.default_rng(0).standard_normal((24, 8)).astype(np.float32)
    report = onnxproof.run(
        PlantedUnderNaN(), inputs=SPEC, output=tmp_path / "d.onnx", data=[{"x": x}], batch_size=8
    )
    assert report.status == "fail"
    data = report.data
    assert data is not None and not data.passed
    (out,) = data.outputs
    assert out.reference_all_nonfinite and out.elements == 0 and out.samples == 24
    assert out.samples_reference_nan == 24 and out.reference_nonfinite_fraction == 1.0
    on_data = [
        f for f in report.findings if f.code == "reference-not-finite" and "on " in f.message
    ]
    assert len(on_data) == 2  # the generated cases and the data
    assert not any(f.code == "output-mismatch" for f in report.findings)
