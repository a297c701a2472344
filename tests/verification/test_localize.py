"""First-divergence localization on identical blocks, one of which diverges only in export."""

from __future__ import annotations

from pathlib import Path

import pytest

import onnxproof
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
