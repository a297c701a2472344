"""Verification on representative data: files, iterables, planted divergences, CLI options."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

import onnxproof
from tests import models
from tests.conftest import ref

SPEC = ["x:float32[batch,10]"]


def _data(n: int = 200, outlier: int | None = None) -> np.ndarray:
    x = np.random.default_rng(0).standard_normal((n, 10)).astype(np.float32)
    if outlier is not None:
        x[outlier] = 80.0
    return x


def test_data_only_divergence_is_caught_and_localized(tmp_path: Path) -> None:
    model = models.DivergesOnLargeInputs()
    clean = onnxproof.run(model, inputs=SPEC, output=tmp_path / "a.onnx", data=[{"x": _data()}])
    assert clean.status == "pass" and clean.data is not None and clean.data.samples == 200

    report = onnxproof.run(
        model,
        inputs=SPEC,
        output=tmp_path / "b.onnx",
        data=[{"x": _data(outlier=137)}],
        batch_size=16,
    )
    assert report.verification is not None and report.verification.passed  # random draws miss it
    data = report.data
    assert report.status == "fail" and data is not None and not data.passed
    assert data.batches == 13
    (out,) = data.outputs
    assert out.worst_samples[0].index == 137 and out.mismatch_fraction > 0
    assert any(f.code == "output-mismatch" and "on " in f.message for f in report.findings)
    assert report.localization is not None and report.localization.first_divergent_module == "fc"


def test_npz_file_with_max_samples_and_task(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", x=_data(300))
    report = onnxproof.run(
        models.SimpleNet(),
        inputs=SPEC,
        output=tmp_path / "s.onnx",
        data=tmp_path / "d.npz",
        max_samples=100,
        task="classification",
    )
    assert report.status == "pass" and report.data is not None
    assert report.data.samples == 100 and "d.npz" in report.data.source
    assert report.data.outputs[0].topk_agreement["top1"] == 1.0


def test_dataloader_of_tuples(tmp_path: Path) -> None:
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(_data(50)))
    loader = torch.utils.data.DataLoader(dataset, batch_size=8)
    report = onnxproof.run(models.SimpleNet(), inputs=SPEC, output=tmp_path / "l.onnx", data=loader)
    assert report.status == "pass" and report.data is not None and report.data.samples == 50


def test_per_output_tolerance_override(tmp_path: Path) -> None:
    model = models.DivergesOnLargeInputs()
    report = onnxproof.run(
        model,
        inputs=SPEC,
        output=tmp_path / "t.onnx",
        data=[{"x": _data(outlier=3)}],
        tolerances={"output": (1e6, 0.0)},
    )
    assert report.status == "pass"


def test_cli_data_errors_and_report(cli, tmp_path: Path) -> None:
    np.savez(tmp_path / "bad.npz", x=_data(10).astype(np.float64))
    result = cli(
        "run",
        ref("SimpleNet"),
        "--input",
        SPEC[0],
        "-o",
        str(tmp_path / "m.onnx"),
        "--data",
        str(tmp_path / "bad.npz"),
    )
    assert result.exit_code == 2 and "float64" in result.stderr and "Traceback" not in result.stderr

    np.savez(tmp_path / "good.npz", x=_data(40))
    result = cli(
        "run", ref("SimpleNet"), "--input", SPEC[0], "-o", str(tmp_path / "m.onnx"),
        "--data", str(tmp_path / "good.npz"), "--batch-size", "16", "--json", str(tmp_path / "r.json"),
    )  # fmt: skip
    assert result.exit_code == 0 and result.report is not None
    data = result.report["data"]
    assert data["samples"] == 40 and data["batches"] == 3 and data["passed"]
    metrics = data["outputs"][0]
    assert {
        "max_abs_diff",
        "mean_abs_diff",
        "p99_abs_diff",
        "rel_l2_error",
        "cosine_similarity",
        "worst_samples",
    } <= set(metrics)

    result = cli(
        "run",
        ref("SimpleNet"),
        "--input",
        SPEC[0],
        "-o",
        str(tmp_path / "m.onnx"),
        "--tol",
        "output=abc",
    )
    assert result.exit_code == 2 and "NAME=ATOL,RTOL" in result.stderr
