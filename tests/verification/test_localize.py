"""First-divergence localization on identical blocks, one of which diverges only in export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import onnxproof
from onnxproof.report import render_run
from onnxproof.report._text import plain
from onnxproof.runtimes.torch_eager import ModuleCall
from onnxproof.verification.localize import unreproduced
from onnxproof.verification.tolerance import TolerancePolicy
from tests import models


@pytest.mark.parametrize("exporter", ["dynamo", "torchscript"])
def test_planted_block_is_found(tmp_path: Path, exporter: str) -> None:
    report = onnxproof.run(
        models.Blocks(bad=3),
        inputs=["x:float32[batch,4]"],
        output=tmp_path / "b.onnx",
        exporter=exporter,
    )
    assert report.status == "fail" and report.exporter == exporter
    loc = report.localization
    assert loc is not None
    assert loc.first_divergent_module == "blocks.3" and loc.module_type == "Block"
    assert loc.onnx_nodes and loc.error is not None and loc.error > 0.01
    by_module = {m.module: m for m in loc.trail}
    # everything before the planted block agrees; its children agree; the error carries on after it
    assert all(by_module[f"blocks.{i}"].diverged is False for i in range(3))
    assert (
        by_module["blocks.3.fc"].diverged is False and by_module["blocks.3.act"].diverged is False
    )
    assert by_module["blocks.4"].diverged and by_module["head"].diverged
    order = [m.module for m in loc.trail]
    assert order.index("blocks.2") < order.index("blocks.3") < order.index("blocks.4")


def test_other_block_index(tmp_path: Path) -> None:
    report = onnxproof.run(
        models.Blocks(n=4, bad=0), inputs=["x:float32[batch,4]"], output=tmp_path / "b.onnx"
    )
    assert (
        report.localization is not None and report.localization.first_divergent_module == "blocks.0"
    )


def test_matching_model_reports_no_divergence(tmp_path: Path) -> None:
    report = onnxproof.run(
        models.Blocks(bad=None),
        inputs=["x:float32[batch,4]"],
        output=tmp_path / "ok.onnx",
        localize=True,
    )
    assert report.status == "pass"
    loc = report.localization
    assert loc is not None and loc.first_divergent_module is None
    compared = [m for m in loc.trail if m.diverged is not None]
    assert len(compared) >= 6 and not any(m.diverged for m in compared)


def test_no_localization_when_passing_by_default(tmp_path: Path) -> None:
    report = onnxproof.run(
        models.SimpleNet(), inputs=["x:float32[batch,10]"], output=tmp_path / "s.onnx"
    )
    assert report.localization is None


class FusedWhenUnobserved(nn.Module):
    """Takes a 'fused' path unless a torch function override is active, as PyTorch's
    transformer fast paths do (their ``has_torch_function`` check); the fused path is planted
    to differ. The export takes the plain path, and so does the hooked run localization makes."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.fc(x)
        exporting = torch.compiler.is_exporting() or torch.onnx.is_in_onnx_export()
        if not exporting and not torch.overrides.has_torch_function((y,)):
            return y + 1.0
        return y


def test_a_failure_hooks_hide_is_inconclusive_not_cleared(tmp_path: Path) -> None:
    """The hooked PyTorch run agrees with the file while the plain one did not: localization says
    it could not reproduce the failure (and why) instead of a green 'no module diverges'."""
    report = onnxproof.run(
        FusedWhenUnobserved(), inputs=["x:float32[batch,4]"], output=tmp_path / "f.onnx"
    )
    assert report.status == "fail"
    loc = report.localization
    assert loc is not None and loc.first_divergent_module is None
    assert loc.unreproduced is not None and "differently with module hooks on" in loc.unreproduced
    assert "max abs 1 " in loc.unreproduced
    step = report.step("localize")
    assert step is not None and step.state == "not-run"
    text = plain("\n".join(render_run(report)))
    assert "no module diverges" not in text and "– localize  inconclusive on case" in text


def test_unreproduced_when_hooked_and_plain_agree_blames_the_instrumented_file() -> None:
    policy = TolerancePolicy(atol=1e-4, rtol=1e-3)
    value = np.ones((2, 3), dtype=np.float32)
    calls = [ModuleCall(path="", type_name="Net", code=None, outputs=(("out", value.copy()),))]
    why = unreproduced(policy, {"out": value}, calls)
    assert "value exposed" in why and "ort-cpu-noopt" in why
    why = unreproduced(policy, {"out": value + 0.5}, calls)
    assert "differently with module hooks on" in why and "max abs 0.5 " in why


class CondPlanted(nn.Module):
    """torch.cond in the forward (eager PyTorch under module hooks raises on it) and a planted
    difference in the export."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(8, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.fc(x)
        if torch.compiler.is_exporting():
            y = y * 1.5
        return torch.cond(x.sum() > 0, lambda t: t * 2, lambda t: t - 1, (y,))


def test_a_hooked_run_that_raises_leaves_the_verdict_and_says_why(tmp_path: Path) -> None:
    """Localization is a diagnosis: PyTorch raising under hooks must not turn a FAIL into an
    internal error."""
    report = onnxproof.run(CondPlanted(), inputs=["x:float32[batch,8]"], output=tmp_path / "c.onnx")
    assert report.status == "fail"
    loc = report.localization
    assert loc is not None and loc.first_divergent_module is None
    assert loc.unreproduced is not None and "PyTorch raised" in loc.unreproduced
    step = report.step("localize")
    assert step is not None and step.state == "not-run"
