"""Every runtime installed here, side by side in one run: all fail a planted export-only
divergence, all pass a clean model, and the one table of the terminal report says so.

Runtimes that are not installed here are left out with the reason (CI installs them all).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import onnxproof
from onnxproof import runtimes
from onnxproof.report import render_run
from onnxproof.report._text import plain
from tests import models

#: Every runtime that runs an ONNX file on a CPU (CUDA and TensorRT need a GPU machine).
CPU_RUNTIMES = (
    "ort-cpu", "ort-cpu-noopt", "openvino-f32", "tract", "onnx-reference", "ort-node", "ort-web",
)  # fmt: skip


def _installed() -> tuple[str, ...]:
    here = []
    for name in CPU_RUNTIMES:
        found = runtimes.runtime_class(name).availability()
        if found.available:
            here.append(name)
        else:
            print(f"left out {name}: {found.install_hint}")
    return tuple(here)


def _table(report: onnxproof.RunReport) -> dict[str, str]:
    """runtime → verdict, read from the printed one-table summary."""
    text = plain("\n".join(render_run(report)))
    rows = text.split("\nruntimes\n", 1)[1].split("\n  each against torch", 1)[0]
    return {row.split()[0]: row.split()[-1] for row in rows.splitlines()[1:]}


def test_every_installed_runtime_fails_a_planted_divergence_and_passes_a_clean_model(
    tmp_path: Path,
) -> None:
    names = _installed()
    if len(names) < 3:
        pytest.skip(f"only {names} installed here")
    torch.manual_seed(0)
    planted = onnxproof.run(
        models.ExportOnlyDivergence(), inputs=["x:float32[batch,10]"],
        output=tmp_path / "p.onnx", runtimes=names,
    )  # fmt: skip
    assert [r.runtime for r in planted.runtimes] == list(names)
    assert all(r.available and not r.passed for r in planted.runtimes)
    assert planted.status == "fail"
    assert _table(planted) == dict.fromkeys(names, "fail")
    clean = onnxproof.run(
        models.SimpleNet(), inputs=["input:float32[batch,10]"],
        output=tmp_path / "c.onnx", runtimes=names,
    )  # fmt: skip
    assert all(r.available and r.passed for r in clean.runtimes)
    assert clean.status == "pass"
    assert _table(clean) == dict.fromkeys(names, "pass")
