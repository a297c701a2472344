"""A bad zoo.toml is exit 2 naming the model and key, and nothing runs; the cache key follows
every input of a model."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from onnxproof.cli import app
from onnxproof.errors import UsageError
from onnxproof.sweeping import load_zoo
from onnxproof.sweeping._key import cache_key
from tests.sweeping.zoo import write_zoo

GOOD = '[[model]]\nname = "mlp"\nmodel = "mlp.py:Net"\ninputs = ["x:float32[batch=2,4]"]\n'


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('inptus = ["x:float32[2,4]"]\n', "zoo.toml: model 'bad': unknown key 'inptus'"),
        ('model = "missing.py:Net"\n', "zoo.toml: model 'bad': key 'model': "),
        ('model = "mlp.py:Net"\ninputs = ["x:floa[2,4]"]\n', "model 'bad': key 'inputs': "),
        ('model = "mlp.py:Net"\natol = -1\n', "zoo.toml: model 'bad': key 'atol' must be >= 0"),
        ('model = "mlp.py:Net"\ntargets = ["ort-wbe"]\n', "key 'targets': unknown target"),
        ('model = "mlp.py:Net"\ndata = "nowhere.npz"\n', "model 'bad': key 'data': "),
        ('model = "mlp.py:Net"\ntimeout = "soon"\n', "key 'timeout' must be a finite number"),
    ],
)
def test_a_bad_model_table_is_exit_2_and_nothing_runs(
    tmp_path: Path, extra: str, message: str
) -> None:
    write_zoo(tmp_path, ("mlp",))
    zoo = tmp_path / "zoo.toml"
    # The good model first: a mistake further down must still stop the whole sweep.
    zoo.write_text(GOOD + '\n[[model]]\nname = "bad"\n' + extra)
    outdir = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(zoo), "-o", str(outdir)])
    assert result.exit_code == 2, result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: ") and message in first, result.stderr
    assert "Traceback" not in result.stderr
    assert not outdir.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[model]]\nname = 'a'\n", "model 'a': key 'model' is missing"),
        ("[[model]]\nname = 'a/b'\nmodel = 'mlp.py:Net'\n", "key 'name' must be a name"),
        (GOOD + GOOD, "model name 'mlp' is used twice"),
        (GOOD + "[sweep]\njobs = 2\n", "unknown top-level key 'sweep'"),
        ("[defaults]\nexporter = 'fast'\n" + GOOD, "[defaults]: key 'exporter' must be one of"),
        ("model = [", "not valid TOML"),
        ("", "no [[model]] tables"),
    ],
)
def test_a_bad_zoo_is_one_message(tmp_path: Path, text: str, message: str) -> None:
    write_zoo(tmp_path, ("mlp",))
    (tmp_path / "zoo.toml").write_text(text)
    with pytest.raises(UsageError, match=message.replace("[", r"\[")):
        load_zoo(tmp_path / "zoo.toml")


def test_paths_are_relative_to_the_zoo_and_defaults_apply(tmp_path: Path) -> None:
    zoo = write_zoo(tmp_path / "models", ("mlp", "cnn"))
    loaded = load_zoo(zoo)
    assert loaded.models[0].model == f"{tmp_path / 'models' / 'mlp.py'}:Net"
    assert all(m.options["exporter"] == "torchscript" for m in loaded.models)
    assert loaded.models[1].files == (tmp_path / "models" / "cnn.py",)


def test_the_cache_key_follows_files_options_and_nothing_else(tmp_path: Path) -> None:
    zoo = write_zoo(tmp_path, ("mlp", "cnn"))
    mlp, cnn = load_zoo(zoo).models
    key = cache_key(mlp)
    assert key is not None and key == cache_key(load_zoo(zoo).models[0])
    assert cache_key(cnn) != key
    # Another option, or other bytes in the model's file, is another key.
    zoo.write_text(zoo.read_text().replace('exporter = "torchscript"', "seed = 3"))
    assert cache_key(load_zoo(zoo).models[0]) != key
    zoo.write_text(zoo.read_text().replace("seed = 3", 'exporter = "torchscript"'))
    assert cache_key(load_zoo(zoo).models[0]) == key
    (tmp_path / "mlp.py").write_text((tmp_path / "mlp.py").read_text() + "# more\n")
    assert cache_key(load_zoo(zoo).models[0]) != key


def test_a_module_on_the_path_is_never_cached(tmp_path: Path) -> None:
    (tmp_path / "zoo.toml").write_text('[[model]]\nname = "a"\nmodel = "some.module:Net"\n')
    (model,) = load_zoo(tmp_path / "zoo.toml").models
    assert model.files is None and cache_key(model) is None


def test_the_ray_engine_without_ray_is_exit_2_with_the_install_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    zoo = write_zoo(tmp_path, ("mlp",))
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets when it is missing
    outdir = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(zoo), "--engine", "ray", "-o", str(outdir)])
    assert result.exit_code == 2
    assert "pip install 'onnxproof[ray]'" in result.stderr
    assert not (outdir / "mlp").exists()


def test_the_cache_key_follows_the_local_modules_a_model_imports(tmp_path: Path) -> None:
    (tmp_path / "layers.py").write_text("import torch\nWIDTH = 4\n")
    (tmp_path / "unrelated.py").write_text("X = 1\n")
    (tmp_path / "net.py").write_text(
        "import torch\nfrom layers import WIDTH\n\n"
        "class Net(torch.nn.Module):\n    def forward(self, x):\n        return x * WIDTH\n"
    )
    (tmp_path / "zoo.toml").write_text(
        '[[model]]\nname = "net"\nmodel = "net.py:Net"\ninputs = ["x:float32[batch,4]"]\n'
    )
    (model,) = load_zoo(tmp_path / "zoo.toml").models
    key = cache_key(model)
    (tmp_path / "unrelated.py").write_text("X = 2\n")
    assert cache_key(load_zoo(tmp_path / "zoo.toml").models[0]) == key
    (tmp_path / "layers.py").write_text("import torch\nWIDTH = 5\n")
    assert cache_key(load_zoo(tmp_path / "zoo.toml").models[0]) != key


def _net_importing(folder: Path, module: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "net.py").write_text(
        f"import os, sys, torch\nsys.path.insert(0, os.path.join(os.path.dirname(__file__), "
        f"'..', 'lib'))\nimport {module}\n\n"
        "class Net(torch.nn.Module):\n    def forward(self, x):\n"
        f"        return {module}.act(x)\n"
    )
    (folder / "zoo.toml").write_text(
        '[[model]]\nname = "net"\nmodel = "net.py:Net"\ninputs = ["x:float32[batch,4]"]\n'
    )
    return folder / "zoo.toml"


def test_a_module_the_model_finds_at_run_time_only_is_never_cached(tmp_path: Path) -> None:
    """The model puts ../lib on sys.path itself: its helper cannot be hashed here, and a changed
    helper must not be answered from the cache."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "helper_only_at_run.py").write_text("def act(x):\n    return x * 2\n")
    zoo = _net_importing(tmp_path / "zoo", "helper_only_at_run")
    (model,) = load_zoo(zoo).models
    assert model.files is None and cache_key(model) is None


def test_a_module_found_on_the_path_outside_installed_packages_is_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lib").mkdir()
    helper = tmp_path / "lib" / "helper_on_path.py"
    helper.write_text("def act(x):\n    return x * 2\n")
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))
    zoo = _net_importing(tmp_path / "zoo", "helper_on_path")
    key = cache_key(load_zoo(zoo).models[0])
    assert key is not None
    helper.write_text("def act(x):\n    return x * 3\n")
    assert cache_key(load_zoo(zoo).models[0]) != key


def test_data_defaults_apply_to_the_models_with_data_only(tmp_path: Path) -> None:
    """[defaults] batch_size/task with one model that has data and one that has none: the
    data-less model runs without them (onnxproof run refuses them without --data)."""
    import numpy as np

    np.savez(tmp_path / "d.npz", x=np.zeros((4, 4), dtype=np.float32))
    (tmp_path / "net.py").write_text(
        "import torch\n\nclass Net(torch.nn.Module):\n    def forward(self, x):\n"
        "        return x * 2\n"
    )
    (tmp_path / "zoo.toml").write_text(
        '[defaults]\nbatch_size = 4\nmax_samples = 8\ntask = "classification"\n\n'
        '[[model]]\nname = "with"\nmodel = "net.py:Net"\ninputs = ["x:float32[batch,4]"]\n'
        'data = "d.npz"\n\n'
        '[[model]]\nname = "without"\nmodel = "net.py:Net"\ninputs = ["x:float32[batch,4]"]\n'
    )
    with_data, without = load_zoo(tmp_path / "zoo.toml").models
    assert with_data.options["batch_size"] == 4 and with_data.options["task"] == "classification"
    assert not {"batch_size", "max_samples", "task"} & set(without.options)
    (tmp_path / "bad.toml").write_text(
        '[[model]]\nname = "m"\nmodel = "net.py:Net"\ninputs = ["x:float32[batch,4]"]\n'
        "batch_size = 4\n"
    )
    with pytest.raises(UsageError, match="key 'batch_size' needs 'data'"):
        load_zoo(tmp_path / "bad.toml")
