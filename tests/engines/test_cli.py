"""``onnxproof verify ... --data DIR --engine ray`` end to end, and its errors (exit 2)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.engines.conftest import Exported


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
