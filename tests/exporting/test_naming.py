"""Graph input and output names that clash with the exporter's own names still make a valid file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

from onnxproof.exporting import export_model
from onnxproof.exporting._naming import distinct_output_names
from onnxproof.runtimes.torch_eager import tensor_outputs
from onnxproof.specs import parse_input_specs


class KeysLikeModules(nn.Module):
    """Output keys equal to the names dynamo gives the module outputs (embedding, linear, relu)."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(10, 4)
        self.linear = nn.Linear(4, 3)

    def forward(self, ids: torch.Tensor) -> dict[str, torch.Tensor]:
        e = self.embedding(ids)
        h = self.linear(e)
        return {"embedding": e, "linear": torch.relu(h), "relu": h * 2}


class KeyLikeInput(nn.Module):
    """An output called like the input; one output is the input itself."""

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"x": x + 1, "same": x, "x_out": x * 3}


class InputLikeModule(nn.Module):
    """A module called ``linear``, fed by an input the user named ``linear``."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.linear(x))


CASES = [
    (KeysLikeModules, "ids:int64[batch,seq]", (torch.tensor([[1, 2, 3], [4, 5, 9]]),)),
    (KeyLikeInput, "x:float32[batch,4]", (torch.randn(2, 4),)),
    (InputLikeModule, "linear:float32[batch,4]", (torch.randn(2, 4),)),
]


@pytest.mark.parametrize(("cls", "spec", "args"), CASES, ids=[c[0].__name__ for c in CASES])
def test_clashing_names_make_a_valid_file(
    tmp_path: Path, cls: type[nn.Module], spec: str, args: tuple[torch.Tensor, ...]
) -> None:
    torch.manual_seed(0)
    module = cls().eval()
    specs = parse_input_specs([spec])
    path = tmp_path / "m.onnx"
    result = export_model(module, specs, path, args=args, exporter="dynamo")
    onnx.checker.check_model(str(path), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == [specs[0].name]
    assert [o.name for o in session.get_outputs()] == list(result.output_names)
    # a second, larger input: the names hold for the dynamic dims too
    for feed in (args[0], torch.cat([args[0], args[0]])):
        got = session.run(None, {specs[0].name: feed.numpy()})
        with torch.no_grad():
            want = list(tensor_outputs(module(feed)).values())
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g, w.numpy(), rtol=1e-5, atol=1e-6)


def test_module_names_kept_as_output_names(tmp_path: Path) -> None:
    result = export_model(
        KeysLikeModules().eval(),
        parse_input_specs(["ids:int64[batch,seq]"]),
        tmp_path / "k.onnx",
        args=(torch.tensor([[1, 2]]),),
        exporter="dynamo",
    )
    assert result.output_names == ("embedding", "linear", "relu")
    graph = onnx.load(str(tmp_path / "k.onnx")).graph
    assert [o.name for o in graph.output] == ["embedding", "linear", "relu"]


def test_output_called_like_an_input_is_suffixed() -> None:
    assert distinct_output_names(["x"], ["x", "same", "x_out"]) == ("x_out_1", "same", "x_out")
    assert distinct_output_names(["x"], ["y"]) == ("y",)


def test_torchscript_keeps_the_input_name(tmp_path: Path) -> None:
    # TorchScript silently renamed the input to "x.1" when an output was called "x".
    specs = parse_input_specs(["x:float32[batch,4]"])
    path = tmp_path / "t.onnx"
    export_model(KeyLikeInput(), specs, path, args=(torch.randn(2, 4),), exporter="torchscript")
    onnx.checker.check_model(str(path), full_check=True)
    assert [i.name for i in onnx.load(str(path)).graph.input] == ["x"]
