from __future__ import annotations

from pathlib import Path

import pytest
import torch

from onnxproof.errors import ModelLoadError
from onnxproof.loading import load_model
from tests.conftest import MODELS, ref


def test_file_reference_and_declared_specs() -> None:
    loaded = load_model(ref("SimpleNet"))
    assert type(loaded.module).__name__ == "SimpleNet"
    assert loaded.declared_specs == ("input:float32[batch,10]",)
    assert loaded.built_here


def test_package_reference_and_factory() -> None:
    loaded = load_model("tests.models:left_in_training")
    assert loaded.module.training and not loaded.built_here


def test_builtin_example() -> None:
    loaded = load_model(None)
    assert loaded.reference == "builtin:SimpleNet"
    assert [type(m).__name__ for m in loaded.module.children()] == ["Linear", "ReLU", "Linear"]


@pytest.mark.parametrize(
    ("reference", "needle"),
    [
        ("nowhere/net.py:Net", "model file nowhere/net.py does not exist"),
        (f"{MODELS}:Missing", "has no attribute 'Missing'"),
        (f"{MODELS}:NeedsArguments", "needs constructor arguments (width)"),
        (f"{MODELS}:not_a_module", "returned a int, not an nn.Module"),
        ("no_such_package_xyz.mod:Net", "cannot import module 'no_such_package_xyz.mod'"),
        ("just_a_name", "is not path/to/file.py:Name"),
    ],
)
def test_load_errors(reference: str, needle: str) -> None:
    with pytest.raises(ModelLoadError) as info:
        load_model(reference)
    assert needle in str(info.value)


def test_missing_attribute_lists_classes() -> None:
    with pytest.raises(ModelLoadError) as info:
        load_model(f"{MODELS}:Missing")
    assert "SimpleNet" in (info.value.hint or "")


def test_weights_pt_and_safetensors(tmp_path: Path) -> None:
    source = load_model(ref("SimpleNet")).module
    torch.save(source.state_dict(), tmp_path / "w.pt")
    loaded = load_model(ref("SimpleNet"), weights=tmp_path / "w.pt")
    assert torch.equal(loaded.module.fc1.weight, source.fc1.weight)

    from safetensors.torch import save_file

    save_file(source.state_dict(), str(tmp_path / "w.safetensors"))
    loaded = load_model(ref("SimpleNet"), weights=tmp_path / "w.safetensors")
    assert torch.equal(loaded.module.fc2.bias, source.fc2.bias)


def test_weights_that_do_not_fit(tmp_path: Path) -> None:
    torch.save({"other.weight": torch.zeros(1)}, tmp_path / "w.pt")
    with pytest.raises(ModelLoadError, match="do not fit the model"):
        load_model(ref("SimpleNet"), weights=tmp_path / "w.pt")
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_model(ref("SimpleNet"), weights=tmp_path / "nope.pt")


def test_exported_program_and_torchscript(tmp_path: Path) -> None:
    module = load_model(ref("SimpleNet")).module.eval()
    x = torch.randn(3, 10)
    program = torch.export.export(module, (x,), dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.export.save(program, str(tmp_path / "net.pt2"))
    loaded = load_model(str(tmp_path / "net.pt2"))
    assert loaded.exported_program is not None and loaded.example_args is not None
    torch.testing.assert_close(loaded.module(x), module(x))

    torch.jit.save(torch.jit.trace(module, (x,)), str(tmp_path / "net.ts"))
    scripted = load_model(str(tmp_path / "net.ts"))
    torch.testing.assert_close(scripted.module(x), module(x))
