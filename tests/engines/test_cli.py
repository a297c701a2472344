"""``onnxproof verify ... --data DIR --engine ray`` end to end, and its errors (exit 2)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.engines.conftest import Exported


def test_verify_on_ray_reports_engine_workers_and_counts(
    cli: Any, ray_cluster: Any, exported: dict[str, Exported], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(1)
    for i in range(3):
        np.savez(data / f"{i}.npz", x=rng.standard_normal((70, 10)).astype(np.float32))
    model = exported["TinyMLP"]
    args = ["verify", model.reference, str(model.onnx_path), "--data", str(data)]
    result = cli(*args, "--engine", "ray", "--workers", "2", "--json", str(tmp_path / "r.json"))
    assert result.exit_code == 0, result.stdout + result.stderr
    report = result.report["data"]
    assert report["engine"] == "ray" and report["workers"] == 2
    assert report["samples"] == report["samples_expected"] == 210 and report["passed"]


def test_engine_ray_without_ray_is_exit_2_with_the_install_command(
    cli: Any, monkeypatch: pytest.MonkeyPatch, exported: dict[str, Exported], tmp_path: Path
) -> None:
    np.savez(tmp_path / "d.npz", x=np.zeros((4, 10), np.float32))
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    model = exported["TinyMLP"]
    args = ["verify", model.reference, str(model.onnx_path), "--data", str(tmp_path / "d.npz")]
    result = cli(*args, "--engine", "ray")
    assert result.exit_code == 2
    assert "pip install 'onnxproof[ray]'" in result.stderr and "Traceback" not in result.stderr


def test_engine_ray_refuses_images_before_any_work(
    cli: Any, exported: dict[str, Exported], tmp_path: Path
) -> None:
    pytest.importorskip("ray.data")
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.png").write_bytes(b"\x89PNG\r\n")
    model = exported["TinyMLP"]
    args = ["verify", model.reference, str(model.onnx_path), "--data", str(tmp_path / "imgs")]
    result = cli(*args, "--engine", "ray")
    assert result.exit_code == 2 and "no .npy, .npz or .parquet files" in result.stderr
