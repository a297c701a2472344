"""bench: every runtime timed per batch size, its verdict beside its latency."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import onnxproof
from onnxproof.cli import app
from onnxproof.options import BenchOptions
from tests import models

QUICK = {"warmup": 1, "iterations": 5}


def test_rows_per_runtime_and_batch_with_verdicts(tmp_path: Path) -> None:
    report = onnxproof.bench(
        models.SimpleNet(),
        inputs=["input:float32[batch,10]"],
        output=tmp_path / "s.onnx",
        options=BenchOptions(runtimes=("ort-cpu", "ort-cpu-noopt"), batches=(1, 4), **QUICK),
    )
    assert report.batch_dim == "batch"
    assert [(r.runtime, r.batch) for r in report.rows] == [
        ("ort-cpu", 1), ("ort-cpu", 4), ("ort-cpu-noopt", 1), ("ort-cpu-noopt", 4),
        ("torch", 1), ("torch", 4),
    ]  # fmt: skip
    for row in report.rows:
        assert row.error is None and row.iterations == 5
        assert row.p50_ms is not None and 0 < row.p50_ms <= (row.p99_ms or 0)
    assert report.verdict_of("ort-cpu") == "pass" and report.verdict_of("torch") == "reference"
    assert report.rows[0].details["providers"] == "CPUExecutionProvider"


def test_a_wrong_runtime_is_marked_beside_its_latency(tmp_path: Path) -> None:
    report = onnxproof.bench(
        models.ExportOnlyDivergence(),
        inputs=["x:float32[batch,10]"],
        output=tmp_path / "p.onnx",
        options=BenchOptions(**QUICK),
    )
    assert report.verdict_of("ort-cpu") == "fail"
    assert report.verification is not None and report.verification.status == "fail"
    result = CliRunner().invoke(
        app,
        ["bench", str(Path(models.__file__)) + ":ExportOnlyDivergence", "--input",
         "x:float32[batch,10]", "--iterations", "3", "--warmup", "0"],
    )  # fmt: skip
    assert result.exit_code == 1
    row = next(line for line in result.stdout.splitlines() if line.startswith("ort-cpu"))
    assert row.rstrip().endswith("fail")


def test_a_file_alone_is_timed_but_not_verified(tmp_path: Path) -> None:
    path = tmp_path / "s.onnx"
    onnxproof.export(models.SimpleNet(), inputs=["input:float32[batch,10]"], output=path)
    report = onnxproof.bench(
        None, path, options=BenchOptions(runtimes=("ort-cpu",), batches=(2,), **QUICK)
    )
    assert report.verification is None and report.verdict_of("ort-cpu") == "not verified"
    # A name no runtime has is a typo, refused before anything is timed.
    with pytest.raises(onnxproof.UsageError, match="'ghost' is not a runtime onnxproof knows"):
        onnxproof.bench(None, path, options=BenchOptions(runtimes=("ort-cpu", "ghost"), **QUICK))


def test_bench_needs_something_to_time() -> None:
    with pytest.raises(onnxproof.UsageError):
        onnxproof.bench()


def test_timing_runs_in_eval_mode_and_leaves_the_model_as_it_was(tmp_path: Path) -> None:
    """BatchNorm in training mode would update its running statistics while being timed: the
    model would no longer match its own file, and the eager figures would be another model's."""
    import torch

    model = models.DropoutBatchNorm()
    options = BenchOptions(**QUICK)
    inputs = ["x:float32[batch,10]"]
    first = onnxproof.bench(model, inputs=inputs, output=tmp_path / "b.onnx", options=options)
    assert first.verification is not None and first.verification.status == "pass"
    assert model.training  # the caller's mode is put back
    stats = model.bn.running_mean.clone()
    again = onnxproof.bench(model, tmp_path / "b.onnx", inputs=inputs, options=options)
    assert again.verification is not None and again.verification.status == "pass"
    assert torch.equal(model.bn.running_mean, stats)


class CompiledOnlyDivergence(torch.nn.Module):
    """Adds 1 when torch.compile traces it (torch.export traces with the same flag set, hence
    the ONNX export check): the compiled model computes something else."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(10, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.fc(x)
        if torch.compiler.is_compiling() and not torch.onnx.is_in_onnx_export():
            y = y + 1
        return y


def test_torch_compile_is_timed_and_compared_with_eager(tmp_path: Path) -> None:
    """A compiled model that computes something else fails beside its latency, and its compile
    time is reported; the ONNX runtimes are verified as before."""
    torch.manual_seed(0)
    report = onnxproof.bench(
        CompiledOnlyDivergence(),
        inputs=["x:float32[batch,10]"],
        output=tmp_path / "c.onnx",
        options=BenchOptions(runtimes=("ort-cpu", "torch-compile"), batches=(2,), **QUICK),
    )
    assert [r.runtime for r in report.rows] == ["ort-cpu", "torch-compile", "torch"]
    compiled = report.rows[1]
    assert compiled.error is None and compiled.iterations == 5
    assert compiled.details["agrees with eager"] == "no"
    assert float(compiled.details["max abs diff vs eager (batch 2)"]) == pytest.approx(1.0)
    assert float(compiled.details["first call s (batch 2)"]) > 0
    assert report.verdict_of("torch-compile") == "fail" and report.verdict_of("ort-cpu") == "pass"


def test_torch_compile_is_a_bench_row_only(tmp_path: Path) -> None:
    with pytest.raises(onnxproof.UsageError, match="runs the PyTorch model, not the ONNX file"):
        onnxproof.run(
            models.SimpleNet(),
            inputs=["input:float32[batch,10]"],
            output=tmp_path / "s.onnx",
            runtimes=("torch-compile",),
        )
    path = tmp_path / "t.onnx"
    onnxproof.export(models.SimpleNet(), inputs=["input:float32[batch,10]"], output=path)
    with pytest.raises(onnxproof.UsageError, match="only an ONNX file was given"):
        onnxproof.bench(None, path, options=BenchOptions(runtimes=("torch-compile",)))


def test_torch_compile_binds_inputs_by_the_modules_own_signature() -> None:
    """The compiled wrapper's forward is (*args, **kwargs); a keyword-only mask must still reach
    the module as mask= (compiling is lazy: nothing is compiled here)."""
    from onnxproof.runtimes.torch_compile import TorchCompiledSession
    from tests import named_models

    session = TorchCompiledSession(named_models.KeywordMask(), ("x", "mask"), ("output",))
    assert session._binding.positional == ("x",) and session._binding.keywords == ("mask",)
