from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap
import zipfile
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
        ("nowhere/net.py:Net", "model file 'nowhere/net.py' does not exist"),
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


# --- weights ------------------------------------------------------------------------------


def test_weights_with_the_right_keys_but_wrong_shapes(tmp_path: Path) -> None:
    state = load_model(ref("SimpleNet")).module.state_dict()
    state["fc1.weight"] = torch.zeros(3, 3)
    torch.save(state, tmp_path / "w.pt")
    with pytest.raises(ModelLoadError) as info:
        load_model(ref("SimpleNet"), weights=tmp_path / "w.pt")
    expected = list(load_model(ref("SimpleNet")).module.fc1.weight.shape)
    assert f"'fc1.weight' has shape [3, 3] in the file but {expected} in the model" in str(
        info.value
    )


def test_damaged_safetensors_gets_a_safetensors_hint(tmp_path: Path) -> None:
    path = tmp_path / "w.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    with pytest.raises(ModelLoadError) as info:
        load_model(ref("SimpleNet"), weights=path)
    assert "cannot read weights" in info.value.message
    assert "safetensors.torch.save_file" in (info.value.hint or "")
    assert "weights_only" not in (info.value.hint or "")


def test_paths_that_are_not_files_say_what_they_are(tmp_path: Path) -> None:
    folder = tmp_path / "net.pt2"
    folder.mkdir()
    with pytest.raises(ModelLoadError, match="is a directory, not a file"):
        load_model(str(folder))
    with pytest.raises(ModelLoadError, match="weights file '/dev/null' is a character device"):
        load_model(ref("SimpleNet"), weights="/dev/null")
    with pytest.raises(ModelLoadError, match="model file .*net.py' is a directory"):
        (tmp_path / "net.py").mkdir()
        load_model(f"{tmp_path / 'net.py'}:Net")


# --- .pt2 archives that would run code -----------------------------------------------------


class _Touch:
    """Unpickling this opens (creates) the marker file: proof that the pickle was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple:
        return (open, (self.marker, "w"))


def _genuine_pt2(path: Path) -> None:
    module = load_model(ref("SimpleNet")).module.eval()
    program = torch.export.export(
        module, (torch.randn(3, 10),), dynamic_shapes=({0: torch.export.Dim("batch")},)
    )
    torch.export.save(program, str(path))


def _rewrite(source: Path, target: Path, edit) -> None:
    """Copy a .pt2 with ``edit(records)`` applied to its records (paths below the root folder)."""
    with zipfile.ZipFile(source) as zin:
        entries = {i.filename: zin.read(i.filename) for i in zin.infolist()}
    root = next(iter(entries)).split("/")[0] + "/"
    records = {name[len(root) :]: data for name, data in entries.items()}
    edit(records)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as zout:
        for name, data in records.items():
            zout.writestr(name[1:] if name.startswith("/") else root + name, data)


def _edit_json(records: dict, name: str, change) -> None:
    value = json.loads(records[name])
    change(value)
    records[name] = json.dumps(value).encode()


def _evil_sample_inputs(records: dict, evil: bytes, marker: Path) -> None:
    records["data/sample_inputs/model.pt"] = evil


def _evil_pickled_weight(records: dict, evil: bytes, marker: Path) -> None:
    config = json.loads(records["data/weights/model_weights_config.json"])
    entry = config["config"]["fc1.weight"]
    entry["use_pickle"] = True
    records["data/weights/model_weights_config.json"] = json.dumps(config).encode()
    records["data/weights/" + entry["path_name"]] = evil


def _evil_guard(records: dict, evil: bytes, marker: Path) -> None:
    def change(program: dict) -> None:
        program["guards_code"] = [f"open({str(marker)!r}, 'w') is not None"]

    _edit_json(records, "models/model.json", change)


def _evil_shape_expression(records: dict, evil: bytes, marker: Path) -> None:
    text = records["models/model.json"].decode()
    start = text.index('"expr_str": "') + len('"expr_str": "')
    end = text.index('"', start)
    payload = f"{text[start:end]} if open({str(marker)!r}, 'w') else 0"
    records["models/model.json"] = (text[:start] + payload + text[end:]).encode()


@pytest.mark.parametrize(
    ("attack", "needle"),
    [
        (_evil_sample_inputs, "data/sample_inputs/model.pt holds more than tensors"),
        (_evil_pickled_weight, "'fc1.weight' in data/weights/model_weights_config.json is stored as a pickle"),
        (_evil_guard, "is not a plain shape check"),
        (_evil_shape_expression, "is not plain sympy"),
    ],
)  # fmt: skip
def test_pt2_that_would_run_code_is_refused_without_running_it(
    tmp_path: Path, attack, needle: str
) -> None:
    """Each crafted file runs its payload under plain torch.export.load + module()(x) in torch
    2.13 (checked when these tests were written); here the marker must never appear."""
    marker = tmp_path / "MARKER"
    evil = pickle.dumps(_Touch(marker), protocol=2)
    _genuine_pt2(tmp_path / "good.pt2")
    _rewrite(tmp_path / "good.pt2", tmp_path / "evil.pt2", lambda r: attack(r, evil, marker))
    with pytest.raises(ModelLoadError) as info:
        loaded = load_model(str(tmp_path / "evil.pt2"))
        loaded.module(torch.randn(3, 10))  # a guard runs only when the module is called
    assert not marker.exists()
    assert needle in str(info.value)
    assert "loading it could run code from the file" in str(info.value)


def _node_calls_os_system(records: dict, evil: bytes, marker: Path) -> None:
    def change(program: dict) -> None:
        program["graph_module"]["graph"]["nodes"][0]["target"] = "torch.os.system"

    _edit_json(records, "models/model.json", change)


def _quote_in_parameter_name(records: dict, evil: bytes, marker: Path) -> None:
    def change(config: dict) -> None:
        config["config"]['fc1.weight"); open("x'] = config["config"].pop("fc1.weight")

    _edit_json(records, "data/weights/model_weights_config.json", change)


def _aoti_binary(records: dict, evil: bytes, marker: Path) -> None:
    records["data/aotinductor/model/model.so"] = b"\x7fELF"


def _legacy_layout(records: dict, evil: bytes, marker: Path) -> None:
    records["/version"] = b"8.0"
    records["/serialized_state_dict.pt"] = evil


@pytest.mark.parametrize(
    ("attack", "needle"),
    [
        (_node_calls_os_system, "node target 'torch.os.system' is not a torch operator"),
        (_quote_in_parameter_name, "which is not a dotted name"),
        (_aoti_binary, "it holds AOTInductor binaries"),
        (_legacy_layout, "pre-2.8 torch.export layout"),
    ],
)
def test_pt2_with_other_code_paths_is_refused(tmp_path: Path, attack, needle: str) -> None:
    marker = tmp_path / "MARKER"
    evil = pickle.dumps(_Touch(marker), protocol=2)
    _genuine_pt2(tmp_path / "good.pt2")
    _rewrite(tmp_path / "good.pt2", tmp_path / "evil.pt2", lambda r: attack(r, evil, marker))
    with pytest.raises(ModelLoadError) as info:
        load_model(str(tmp_path / "evil.pt2"))
    assert needle in str(info.value)
    assert not marker.exists()


def test_genuine_pt2_rewritten_unchanged_still_loads(tmp_path: Path) -> None:
    """The rewrite itself is harmless: the refusals above come from the edits alone."""
    _genuine_pt2(tmp_path / "good.pt2")
    _rewrite(tmp_path / "good.pt2", tmp_path / "copy.pt2", lambda records: None)
    loaded = load_model(str(tmp_path / "copy.pt2"))
    assert loaded.module(torch.randn(5, 10)).shape[0] == 5


def test_non_zip_pt2_is_a_model_load_error(tmp_path: Path) -> None:
    path = tmp_path / "text.pt2"
    path.write_text("not an archive")
    with pytest.raises(ModelLoadError, match="is not a loadable torch.export program"):
        load_model(str(path))


# --- torch missing --------------------------------------------------------------------------


def test_missing_torch_is_a_user_error_with_the_install_command() -> None:
    """A fresh interpreter where `import torch` fails: importing the loader says what to do."""
    script = textwrap.dedent(
        """
        import sys
        class NoTorch:
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError("No module named 'torch'")
        sys.meta_path.insert(0, NoTorch())
        from onnxproof.errors import OnnxproofError
        try:
            import onnxproof.loading
        except OnnxproofError as exc:
            print(type(exc).__name__, exc.exit_code, exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.startswith("ModelLoadError 2 PyTorch (torch) is not installed")
    assert "pip install -c constraints.txt torch==2.13.0" in result.stdout
