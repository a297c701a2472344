"""A dynamic dim that PyTorch let through at one size only is said, not passed in silence."""

from __future__ import annotations

from pathlib import Path

import torch

import onnxproof


class _OnlyBatchTwo(torch.nn.Module):
    """Raises at any batch but 2 when run eagerly (the export traces through)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (torch.compiler.is_exporting() or torch.jit.is_tracing()) and x.shape[0] != 2:
            raise ValueError("only batch 2")
        return x * 2


class _Doubler(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2


def test_a_dim_compared_at_one_size_only_is_a_warning(tmp_path: Path) -> None:
    report = onnxproof.run(
        _OnlyBatchTwo(), inputs=["x:float32[batch,3]"], output=tmp_path / "p.onnx"
    )
    found = [f for f in report.findings if f.code == "single-size"]
    assert len(found) == 1 and found[0].severity.value == "warning"
    assert "dim 'batch' was compared at size 2 only" in found[0].message
    assert "(1, 7)" in found[0].message
    assert report.status == "pass"  # every size the model accepts agrees


def test_a_dim_compared_at_several_sizes_says_nothing(tmp_path: Path) -> None:
    report = onnxproof.run(_Doubler(), inputs=["x:float32[batch,3]"], output=tmp_path / "d.onnx")
    assert not [f for f in report.findings if f.code == "single-size"]
