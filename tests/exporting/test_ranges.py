"""The range of each dynamic dim, read from the program the dynamo exporter made."""

from __future__ import annotations

from pathlib import Path

import torch

from onnxproof.exporting import export_model
from onnxproof.linting.export_rules import export_findings
from onnxproof.specs import parse_input_specs


class _TwoInputs(torch.nn.Module):
    """``seq`` bounded by a branch, ``batch`` shared by both inputs and free."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if x.shape[1] > 12:
            return (x * 2).sum(-1) * mask
        return x.sum(-1) * mask


SPECS = parse_input_specs(["x:float32[batch,seq=4,3]", "mask:float32[batch,seq]"])
ARGS = (torch.randn(2, 4, 3), torch.ones(2, 4))


def test_dynamo_export_records_each_dims_range(tmp_path: Path) -> None:
    result = export_model(_TwoInputs(), SPECS, tmp_path / "m.onnx", args=ARGS, exporter="dynamo")
    ranges = {r.name: r for r in result.dim_ranges}
    assert set(ranges) == {"batch", "seq"}
    assert ranges["seq"].high == 12 and ranges["batch"].high is None
    assert ranges["seq"].low <= 2 and ranges["seq"].source == "torch.export"
    infos = [f for f in export_findings(result) if f.code == "dim-range"]
    assert len(infos) == 1 and infos[0].severity.value == "info"
    assert (
        "dim 'seq' valid only in [" in infos[0].message
        and "12] per torch.export" in infos[0].message
    )


def test_the_torchscript_exporter_gives_no_range(tmp_path: Path) -> None:
    result = export_model(
        _TwoInputs(), SPECS, tmp_path / "m.onnx", args=ARGS, exporter="torchscript"
    )
    assert result.dim_ranges == ()
    assert "dim-range" not in {f.code for f in export_findings(result)}
