"""Outputs no larger than their atol: the elementwise test cannot see errors of their size, so
they are judged by relative L2 error too; float32 noise must never fail that."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

import onnxproof
from onnxproof.verification.tolerance import SMALL_OUTPUT_REL_L2, small_output_diverged

SPEC = ["x:float32[batch,8]"]


class TinyOut(nn.Module):
    """Outputs ~1e-5; the export is planted 1.5x off (every element 50% wrong)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.fc(x) * 1e-5
        if torch.compiler.is_exporting() or torch.onnx.is_in_onnx_export():
            y = y * 1.5
        return y


class TinyWeights(nn.Module):
    """A faithful small-output model: two layers, the last with weights scaled by 1e-5."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(8, 32)
        self.head = nn.Linear(32, 4)
        with torch.no_grad():
            self.head.weight.mul_(1e-5)
            self.head.bias.mul_(1e-5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.nn.functional.gelu(self.hidden(x)))


class NoiseByDesign(nn.Module):
    """The sum of a LayerNorm's outputs: 0 in exact arithmetic, float noise (~1e-6) here, and
    faithfully exported: the two sides' noise differs by ~100% but nothing diverges."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 64)
        self.norm = nn.LayerNorm(64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.fc(x)).sum(-1, keepdim=True)


def test_rule_thresholds() -> None:
    assert small_output_diverged(1e-5, 0.5, 1e-4, reference_noise=0.0)
    assert not small_output_diverged(1e-5, SMALL_OUTPUT_REL_L2 / 2, 1e-4, reference_noise=0.0)
    assert not small_output_diverged(1e-3, 0.5, 1e-4, reference_noise=0.0)  # elementwise holds
    assert not small_output_diverged(0.0, float("inf"), 1e-4, reference_noise=0.0)  # no scale
    assert not small_output_diverged(None, None, 1e-4)
    # no noise measure (token ids only): float noise cannot be told from a divergence
    assert not small_output_diverged(1e-5, 1.1, 1e-4)
    # an output that is noise by design: the threshold rises to 10x its own noise
    assert not small_output_diverged(1e-7, 1.5, 1e-4, reference_noise=1.0)
    assert small_output_diverged(1e-5, 0.5, 1e-4, reference_noise=1e-7)


def test_tiny_output_half_off_fails(tmp_path: Path) -> None:
    torch.manual_seed(0)
    report = onnxproof.run(TinyOut(), inputs=SPEC, output=tmp_path / "t.onnx")
    assert report.status == "fail", report.findings
    assert report.verification is not None
    (out,) = report.verification.outputs
    assert out.mismatch_fraction == 0  # every element is inside atol: the elementwise test is blind
    assert out.small_output_diverged and not out.passed
    assert out.reference_rms is not None and out.reference_rms <= out.atol
    assert out.reference_noise is not None and out.reference_noise < 1e-4  # small, not noise
    (found,) = [f for f in report.findings if f.code == "small-output-mismatch"]
    assert found.severity == "error"
    assert "RMS" in found.message and "atol 0.0001" in found.message and "5.00e-01" in found.message
    assert not any(f.code == "output-mismatch" for f in report.findings)


def test_faithful_tiny_output_still_passes(tmp_path: Path) -> None:
    torch.manual_seed(0)
    report = onnxproof.run(
        TinyWeights(),
        inputs=SPEC,
        output=tmp_path / "w.onnx",
        runtimes=("ort-cpu", "onnx-reference"),
    )
    assert report.status == "pass", report.findings
    for parity in report.runtimes:
        (out,) = parity.outputs
        assert out.reference_rms is not None and out.reference_rms <= out.atol  # the rule applied
        assert out.rel_l2_error is not None and out.rel_l2_error < 1e-4
        assert out.passed and not out.small_output_diverged


def test_output_that_is_float_noise_by_design_passes(tmp_path: Path) -> None:
    torch.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((32, 8)).astype(np.float32)
    report = onnxproof.run(
        NoiseByDesign(), inputs=SPEC, output=tmp_path / "n.onnx", data=[{"x": x}]
    )
    assert report.status == "pass", report.findings
    assert report.verification is not None and report.data is not None
    for out in (report.verification.outputs[0], report.data.outputs[0]):
        # the elementwise test is blind here and the runtime's noise differs by ~100%...
        assert out.reference_rms is not None and out.reference_rms <= out.atol
        assert out.rel_l2_error is not None and out.rel_l2_error > SMALL_OUTPUT_REL_L2
        # ... but so does PyTorch's own output under a one-ulp nudge: noise, not divergence
        assert out.reference_noise is not None and out.reference_noise > 0.1
        assert not out.small_output_diverged


def test_own_tolerance_turns_the_scale_check_off(tmp_path: Path) -> None:
    torch.manual_seed(0)
    report = onnxproof.run(
        TinyOut(), inputs=SPEC, output=tmp_path / "o.onnx", tolerances={"output": (1e-4, 1e-3)}
    )
    assert report.status == "pass", report.findings
    assert report.verification is not None
    assert not report.verification.outputs[0].small_output_diverged


def test_tiny_output_half_off_fails_on_data(tmp_path: Path) -> None:
    torch.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((32, 8)).astype(np.float32)
    report = onnxproof.run(TinyOut(), inputs=SPEC, output=tmp_path / "d.onnx", data=[{"x": x}])
    data = report.data
    assert data is not None and not data.passed
    (out,) = data.outputs
    assert out.mismatch_fraction == 0 and out.small_output_diverged
    assert report.to_dict()["data"]["outputs"][0]["small_output_diverged"] is True
    found = [f for f in report.findings if f.code == "small-output-mismatch"]
    assert len(found) == 2  # on the generated cases and on the data


class _IdsNormSum(torch.nn.Module):
    """Token ids only: the sum of a LayerNorm's outputs is float noise, and no float input can
    be nudged to measure it."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embed = torch.nn.Embedding(50, 16)
        self.norm = torch.nn.LayerNorm(16)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.norm(self.embed(input_ids)).sum(-1)


class _MaskedPool(torch.nn.Module):
    """A masked mean-pool read with ``mask.bool()`` and a 1e-5 head; ``wrong`` is 1.5x off."""

    def __init__(self, wrong: bool = False) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.head = torch.nn.Linear(8, 2)
        with torch.no_grad():
            self.head.weight.mul_(1e-5)
            self.head.bias.zero_()
        self.wrong = wrong

    def forward(self, x: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        keep = attention_mask.bool().unsqueeze(-1)
        pooled = (x * keep).sum(1) / keep.sum(1).clamp(min=1)
        out = self.head(pooled)
        return out * 1.5 if self.wrong else out


def test_token_id_model_whose_output_is_float_noise_passes(tmp_path: Path) -> None:
    report = onnxproof.run(
        _IdsNormSum(), inputs=["input_ids:int64[batch,seq=6]{0..49}"], output=tmp_path / "i.onnx"
    )
    assert report.status == "pass", [f.message for f in report.findings]


def test_a_float_mask_is_not_nudged_into_a_false_noise_measure(tmp_path: Path) -> None:
    """One ulp on a float 0/1 mask flips what .bool() reads: the 'noise' became the mask
    flipping and raised the threshold past a 1.5x error."""
    path = tmp_path / "wrong.onnx"
    inputs = ["x:float32[batch,seq=6,8]", "attention_mask:float32[batch,seq]{mask}"]
    onnxproof.export(_MaskedPool(wrong=True), inputs=inputs, output=path)
    report = onnxproof.verify(_MaskedPool(), path, inputs=inputs)
    assert report.status == "fail"
    assert any(f.code == "small-output-mismatch" for f in report.findings)


class _Rate(torch.nn.Module):
    """1e-5 * exp(x): tiny on negative inputs, large on wide ones. ``wrong`` clamps x at 0 first,
    which only the small (negative-draw) cases show."""

    def __init__(self, wrong: bool = False) -> None:
        super().__init__()
        self.wrong = wrong

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 1e-5 * torch.exp(x.clamp(min=0.0) if self.wrong else x)


def test_a_divergence_in_the_small_cases_is_not_hidden_by_the_large_ones(tmp_path: Path) -> None:
    path = tmp_path / "rate.onnx"
    onnxproof.export(_Rate(wrong=True), inputs=["x:float32[batch,4]"], output=path)
    report = onnxproof.verify(_Rate(), path, inputs=["x:float32[batch,4]"])
    assert report.status == "fail"
    (out,) = report.verification.outputs
    assert out.small_output_diverged and out.small_case and "negative" in out.small_case
    found = [f for f in report.findings if f.code == "small-output-mismatch"]
    assert found and "larger cases' figures hide it" in found[0].message
    faithful = onnxproof.run(_Rate(), inputs=["x:float32[batch,4]"], output=tmp_path / "ok.onnx")
    assert faithful.status == "pass", [f.message for f in faithful.findings]
