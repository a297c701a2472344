"""Bad usage and bad input: one line naming what was wrong and what to do, exit 2, before any work."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from onnxproof.cli import app
from tests.conftest import ref


def _invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _one_error(stderr: str) -> str:
    """The error line of a one-line error (a hint line may follow); fails on anything else."""
    lines = stderr.strip().splitlines()
    assert lines and lines[0].startswith("error: "), stderr
    assert len(lines) <= 2 and all(line.startswith("  → ") for line in lines[1:]), stderr
    return lines[0]


def test_click_usage_errors_are_one_line_with_exit_2() -> None:
    for args, what in [
        (("run", "--batch-size", "0"), "--batch-size"),
        (("verify", "x.py:Net"), "ONNX_FILE"),
        (("run", "--no-such-option"), "--no-such-option"),
        (("no-such-command",), "no-such-command"),
    ]:
        result = _invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert what in _one_error(result.stderr), result.stderr
        assert "Usage:" not in result.output


def test_help_and_no_arguments_still_show_the_help() -> None:
    assert "--batch-size" in _invoke("run", "--help").stdout
    assert "Commands:" in _invoke().output


def test_unknown_runtime_is_refused_before_the_model_loads(tmp_path: Path) -> None:
    for command in (
        ["run", ref("SimpleNet"), "-o", str(tmp_path / "m.onnx")],
        ["bench", ref("SimpleNet")],
    ):
        result = _invoke(*command, "--runtime", "nosuch")
        assert result.exit_code == 2, result.output
        line = _one_error(result.stderr)
        assert (
            "'nosuch'" in line and "ort-cpu" in result.stderr and "onnx-reference" in result.stderr
        )
        assert not (tmp_path / "m.onnx").exists()


def test_opset_out_of_range_is_refused_before_the_export(tmp_path: Path) -> None:
    import onnx.defs

    highest = onnx.defs.onnx_opset_version()
    for command in ("run", "export"):
        for opset in (highest + 1, 1_000_000_000_000):
            out = tmp_path / "m.onnx"
            result = _invoke(command, ref("SimpleNet"), "-o", str(out), "--opset", str(opset))
            assert result.exit_code == 2, (command, opset, result.output)
            assert f"--opset {opset}" in _one_error(result.stderr) and str(highest) in result.stderr
            assert not out.exists()
    low = _invoke("run", ref("SimpleNet"), "--opset", "6")
    assert low.exit_code == 2 and "7" in _one_error(low.stderr)


def test_options_that_do_not_apply_are_refused(tmp_path: Path) -> None:
    import numpy as np

    data = tmp_path / "d.npz"
    np.savez(data, input=np.zeros((2, 10), np.float32))
    onnx_file = tmp_path / "given.onnx"
    onnx_file.write_bytes(b"not read: the options are refused first")
    out = tmp_path / "m.onnx"
    for extra, expected in [
        (("--steps", "3"), "--steps needs --task text-generation-with-past"),
        (("--workers", "2"), "--workers needs --engine ray"),
        (("--ray-address", "auto"), "--ray-address needs --engine ray"),
        (("--task", "classification"), "--task classification needs --data"),
        (("--image-spec", "size=2x2"), "--image-spec needs --data"),
        (("--batch-size", "4"), "--batch-size needs --data"),
        (("--max-samples", "4"), "--max-samples needs --data"),
        (("--engine", "ray"), "--engine needs --data"),
        (("--data", str(data), "--image-spec", "size=2x2"), "--image-spec applies to a folder"),
    ]:
        for command in (
            ["run", ref("SimpleNet"), "-o", str(out)],
            ["verify", ref("SimpleNet"), str(onnx_file)],
        ):
            result = _invoke(*command, *extra)
            assert result.exit_code == 2, (command, extra, result.output)
            assert expected in _one_error(result.stderr), result.stderr
            assert not out.exists()
    # The defaults given explicitly (a wrapper that always passes them) ask for nothing unusual.
    result = _invoke(
        "run", ref("SimpleNet"), "-o", str(out), "--engine", "local", "--batch-size", "32"
    )
    assert result.exit_code == 0, result.output


def _model_file(tmp_path: Path, body: str, name: str = "net") -> Path:
    # One file name per model: a file is imported once per process.
    path = tmp_path / f"{name}.py"
    path.write_text("import torch\nfrom torch import nn\n\n" + body)
    return path


def test_onnxproof_inputs_that_is_not_a_list_is_a_usage_error(tmp_path: Path) -> None:
    for index, value in enumerate(("42", "None.__class__", "{'x': 1}")):
        path = _model_file(
            tmp_path,
            f"class Net(nn.Module):\n    onnxproof_inputs = {value}\n\n"
            "    def forward(self, x):\n        return x * 2\n",
            name=f"net{index}",
        )
        result = _invoke("run", f"{path}:Net", "-o", str(tmp_path / "m.onnx"))
        assert result.exit_code == 2, (value, result.output)
        assert "onnxproof_inputs must be a list of input spec strings" in _one_error(result.stderr)


class _Refused:
    """Pickled by reference to a global that ``torch.load(weights_only=True)`` refuses."""

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (print, ("never printed",))


def test_an_unloadable_pt_file_shows_the_one_line_error_alone(tmp_path: Path) -> None:
    import subprocess
    import sys

    import torch

    # Protocol 4 makes torch warn (with a line of its own code) before it refuses the file.
    evil = tmp_path / "evil.pt"
    torch.save({"input": _Refused()}, evil, pickle_protocol=4)
    for option in ("--weights", "--data"):
        proc = subprocess.run(
            [sys.executable, "-m", "onnxproof", "run", ref("SimpleNet"), option, str(evil)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )
        assert proc.returncode == 2, proc.stderr
        assert "weights_only" in _one_error(proc.stderr)
        assert "never printed" not in proc.stdout


def test_sparse_tensors_in_pt_data_are_a_data_error(tmp_path: Path) -> None:
    import torch

    data = tmp_path / "sparse.pt"
    torch.save({"input": torch.eye(3, 10).to_sparse()}, data)
    result = _invoke("run", ref("SimpleNet"), "--data", str(data), "-o", str(tmp_path / "m.onnx"))
    assert result.exit_code == 2, result.output
    line = _one_error(result.stderr)
    assert "sparse tensors are not supported" in line and "dense" in result.stderr


def test_an_output_in_a_folder_where_no_file_can_be_created_is_refused_first(
    tmp_path: Path,
) -> None:
    import pytest

    if not Path("/proc/self").is_dir():
        pytest.skip("needs /proc, where os.access says yes (as root) but nothing can be created")
    out = tmp_path / "m.onnx"
    for command, expected in [
        (["run", ref("SimpleNet"), "-o", "/proc/m.onnx"], "-o /proc/m.onnx"),
        (["export", ref("SimpleNet"), "-o", "/proc/sub/m.onnx"], "-o /proc/sub/m.onnx"),
        (["run", ref("SimpleNet"), "-o", str(out), "--json", "/proc/r.json"], "--json"),
        (["bench", ref("SimpleNet"), "--json", "/proc/r.json"], "--json"),
    ]:
        result = _invoke(*command)
        assert result.exit_code == 2, (command, result.output)
        line = _one_error(result.stderr)
        assert expected in line and "cannot write in /proc" in line
        assert not out.exists()


def test_running_out_of_memory_is_could_not_judge_not_a_bug(tmp_path: Path) -> None:
    import resource
    import subprocess
    import sys

    path = _model_file(
        tmp_path, "class Net(nn.Module):\n    def forward(self, x):\n        return x * 2\n"
    )

    def limited() -> None:  # 4 GB of address space: enough for torch, not for the inputs
        resource.setrlimit(resource.RLIMIT_AS, (4_000_000_000, 4_000_000_000))

    proc = subprocess.run(
        [sys.executable, "-m", "onnxproof", "run", f"{path}:Net", "-i", "x:float32[b,200000000]"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        preexec_fn=limited,
    )
    assert proc.returncode == 3, proc.stderr
    line = _one_error(proc.stderr)
    assert "ran out of memory while" in line and "bug" not in proc.stderr
    assert "--batch-size" in proc.stderr


def _onnx_file(path: Path, outputs: int) -> Path:
    """x: float32[batch, 3] → ``outputs`` outputs, each x * 2."""
    import onnx
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Add", ["x", "x"], [f"y{i}"]) for i in range(outputs)]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
        [
            helper.make_tensor_value_info(f"y{i}", TensorProto.FLOAT, ["batch", 3])
            for i in range(outputs)
        ],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))
    return path


_TWO = (
    "class Two(nn.Module):\n    def forward(self, x):\n        return x * 2, x * 2\n\n"
    "class One(nn.Module):\n    def forward(self, x):\n        return x * 2\n"
)


def test_verify_refuses_a_spec_that_contradicts_the_file(tmp_path: Path) -> None:
    model = f"{_model_file(tmp_path, _TWO, name='fits')}:One"
    path = _onnx_file(tmp_path / "one.onnx", 1)
    ok = _invoke("verify", model, str(path), "-i", "x:float32[batch,3]")
    assert ok.exit_code == 0, ok.output
    for spec, says in [
        ("x:float64[batch,3]", "dtype float64"),
        ("x:float32[batch,5]", "dim 1 = 5"),
        ("x:float32[batch,3,1]", "rank 3"),
    ]:
        result = _invoke("verify", model, str(path), "-i", spec)
        assert result.exit_code == 2, (spec, result.output)
        line = _one_error(result.stderr)
        assert f"input 'x': the spec {spec} says {says}" in line
        assert "declares x:float32[batch,3]" in line


def test_verify_refuses_a_file_with_another_number_of_outputs(tmp_path: Path) -> None:
    model = _model_file(tmp_path, _TWO, name="counts")
    for name, outputs, returns in [("Two", 1, 2), ("Two", 3, 2), ("One", 2, 1)]:
        path = _onnx_file(tmp_path / f"{name}{outputs}.onnx", outputs)
        result = _invoke("verify", f"{model}:{name}", str(path), "-i", "x:float32[batch,3]")
        assert result.exit_code == 2, (name, outputs, result.output)
        line = _one_error(result.stderr)
        assert f"has {outputs} output(s)" in line and f"returns {returns} tensor(s)" in line
    good = _onnx_file(tmp_path / "good.onnx", 2)
    assert _invoke("verify", f"{model}:Two", str(good), "-i", "x:float32[batch,3]").exit_code == 0
