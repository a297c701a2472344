"""Localization pairs every output of a module with its own ONNX value, and blames the model's
own forward when no module diverges but the graph's outputs do."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from torch import nn

import onnxproof
from onnxproof import runtimes
from onnxproof.results import Localization
from onnxproof.runtimes.torch_eager import TorchEager
from onnxproof.verification.localize import ROOT, localize
from onnxproof.verification.tolerance import TolerancePolicy

EXPORTERS = ["dynamo", "torchscript"]


class Rotary(nn.Module):
    """Returns ``(cos, sin)`` of its input, as a rotary embedding does; ``sin_first`` computes
    them in the other order than it returns them."""

    def __init__(self, sin_first: bool = False) -> None:
        super().__init__()
        self.sin_first = sin_first

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.sin_first:
            sin = x.sin()
            cos = x.cos()
        else:
            cos = x.cos()
            sin = x.sin()
        return cos, sin


class Mix(nn.Module):
    def __init__(self, planted: bool) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.planted = planted

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc(x)
        if self.planted and torch.onnx.is_in_onnx_export():
            h = h * 1.5
        return h


class RotaryNet(nn.Module):
    """A tuple-returning module followed by layers; ``plant`` names where the export differs."""

    def __init__(self, plant: str | None = None, sin_first: bool = False) -> None:
        super().__init__()
        self.inp = nn.Linear(4, 8)
        self.rotary = Rotary(sin_first)
        self.mix = Mix(plant == "mix")
        self.head = nn.Linear(8, 2)
        self.plant = plant

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp(x)
        cos, sin = self.rotary(h)
        out = self.head(self.mix(h * cos + sin))
        if self.plant == "root" and torch.onnx.is_in_onnx_export():
            out = out + 1.0  # after every child: only the model's own code differs
        return out


class TailNet(nn.Module):
    """No tuple anywhere: children agree, the model's own last line differs in export."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.act = nn.Tanh()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act(self.fc(x))
        if torch.onnx.is_in_onnx_export():
            out = out + 1.0
        return out


class SharedNet(nn.Module):
    """One activation module called twice, around a layer that may differ in export."""

    def __init__(self, planted: bool = False) -> None:
        super().__init__()
        self.act = nn.Tanh()
        self.fc = Mix(planted)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.fc(self.act(x.repeat(1, 2))))


def _localize(model: nn.Module, exporter: str, tmp_path: Path) -> Localization:
    path = tmp_path / f"{exporter}.onnx"
    onnxproof.export(model, inputs=["x:float32[batch,4]"], output=path, exporter=exporter)
    proto = onnx.load(path)
    outputs = tuple(o.name for o in proto.graph.output)
    feeds = {"x": np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)}
    reference = TorchEager(model.eval(), ("x",), outputs).load(str(path))
    ort = runtimes.get("ort-cpu")
    return localize(
        proto,
        reference.module_outputs(feeds),
        lambda p: ort.load(p).infer(feeds),
        policy=TolerancePolicy(),
        case="case 0",
    )


@pytest.mark.parametrize("sin_first", [False, True])
@pytest.mark.parametrize("exporter", EXPORTERS)
def test_tuple_module_is_compared_output_by_output(
    tmp_path: Path, exporter: str, sin_first: bool
) -> None:
    loc = _localize(RotaryNet(sin_first=sin_first), exporter, tmp_path)
    assert loc.first_divergent_module is None, loc.trail
    rotary = next(m for m in loc.trail if m.module == "rotary")
    # both outputs paired and compared, not one guessed
    assert rotary.diverged is False and rotary.outputs_compared == 2
    root = next(m for m in loc.trail if m.module == ROOT)
    assert root.diverged is False and root.module_type == "RotaryNet"


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_divergence_after_tuple_module_is_the_real_one(tmp_path: Path, exporter: str) -> None:
    loc = _localize(RotaryNet(plant="mix"), exporter, tmp_path)
    assert loc.first_divergent_module == "mix" and loc.module_type == "Mix"
    entries = {m.module: m for m in loc.trail}
    assert entries["rotary"].diverged is False and entries["inp"].diverged is False
    assert entries["mix.fc"].diverged is False  # the child agrees: Mix's own code differs
    assert entries["head"].diverged and entries[ROOT].diverged
    line = inspect.getsourcelines(Mix.forward)[1]
    assert loc.divergent_code == f"Mix.forward at {_shown(__file__)}:{line}"
    assert loc.code_nodes and loc.uncompared_inside == ()


@pytest.mark.parametrize("cls", [TailNet, lambda: RotaryNet(plant="root")])
@pytest.mark.parametrize("exporter", EXPORTERS)
def test_divergence_in_the_models_own_forward_is_named(
    tmp_path: Path, exporter: str, cls: Callable[[], nn.Module]
) -> None:
    model = cls()
    name = type(model).__name__
    loc = _localize(model, exporter, tmp_path)
    assert loc.first_divergent_module == ROOT and loc.module_type == name
    assert all(m.diverged is False for m in loc.trail if m.module != ROOT)
    line = inspect.getsourcelines(type(model).forward)[1]
    assert loc.divergent_code == f"{name}.forward at {_shown(__file__)}:{line}"
    assert loc.divergent_output == "output" and loc.error == pytest.approx(1.0, abs=1e-4)
    assert loc.code_nodes  # the root's own nodes (the planted Add among them)


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_each_call_of_a_module_is_compared_with_its_own_nodes(
    tmp_path: Path, exporter: str
) -> None:
    loc = _localize(SharedNet(), exporter, tmp_path)
    assert loc.first_divergent_module is None
    calls = [m for m in loc.trail if m.module == "act"]
    assert [m.diverged for m in calls] == [False, False]
    planted = _localize(SharedNet(planted=True), exporter, tmp_path)
    assert planted.first_divergent_module == "fc"
    assert [m.diverged for m in planted.trail if m.module == "act"] == [False, True]


def test_run_localizes_a_rotary_model_that_passes(tmp_path: Path) -> None:
    report = onnxproof.run(
        RotaryNet(), inputs=["x:float32[batch,4]"], output=tmp_path / "r.onnx", localize=True
    )
    assert report.status == "pass"
    assert report.localization is not None
    assert report.localization.first_divergent_module is None


def test_run_names_the_models_own_forward(tmp_path: Path) -> None:
    report = onnxproof.run(TailNet(), inputs=["x:float32[batch,4]"], output=tmp_path / "t.onnx")
    assert report.status == "fail" and report.localization is not None
    assert report.localization.first_divergent_module == ROOT
    assert (report.localization.divergent_code or "").startswith("TailNet.forward at ")


def _shown(file: str) -> str:
    shown = os.path.relpath(file)
    return file if shown.startswith("..") else shown
