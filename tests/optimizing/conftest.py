"""Exported float files and their data, made once per module: exports are the slow part."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

import onnxproof
from tests.models import SmallCNN, with_trained_stats
from tests.optimizing.models import LargeActivationNorm, MaskCastToFloat, OutlierChannel, tiny_bert


@dataclass(frozen=True)
class Exported:
    model: torch.nn.Module
    path: Path
    data: Path
    inputs: list[str] | None


def _exported(folder: Path, name: str, model: torch.nn.Module, inputs: list[str] | None) -> Path:
    path = folder / f"{name}.onnx"
    onnxproof.export(model, inputs=inputs, output=path)
    return path


@pytest.fixture(scope="session")
def cnn(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    folder = tmp_path_factory.mktemp("cnn")
    # Seeded: unseeded weights depend on which tests ran before, and random weights leave some
    # samples with near-tied logits whose top-1 any rounding flips (seed 3 does that for fp16).
    torch.manual_seed(0)
    model = with_trained_stats(SmallCNN())
    path = _exported(folder, "cnn", model, ["x:float32[batch,3,16,16]"])
    data = folder / "data.npz"
    rng = np.random.default_rng(0)
    np.savez(data, x=rng.standard_normal((64, 3, 16, 16)).astype(np.float32))
    return Exported(model, path, data, ["x:float32[batch,3,16,16]"])


@pytest.fixture(scope="session")
def bert(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    folder = tmp_path_factory.mktemp("bert")
    model = tiny_bert()
    path = _exported(folder, "bert", model, None)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 100, (48, 12)).astype(np.int64)
    data = folder / "data.npz"
    np.savez(data, input_ids=ids, attention_mask=np.ones_like(ids), token_type_ids=0 * ids)
    return Exported(model, path, data, None)


def _dense(tmp_path_factory: pytest.TempPathFactory, name: str, model: torch.nn.Module) -> Exported:
    folder = tmp_path_factory.mktemp(name)
    path = _exported(folder, name, model.eval(), ["x:float32[batch,16]"])
    data = folder / "data.npz"
    np.savez(data, x=np.random.default_rng(0).standard_normal((96, 16)).astype(np.float32))
    return Exported(model, path, data, ["x:float32[batch,16]"])


@pytest.fixture(scope="session")
def outlier(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    return _dense(tmp_path_factory, "outlier", OutlierChannel())


@pytest.fixture(scope="session")
def large_norm(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    return _dense(tmp_path_factory, "norm", LargeActivationNorm())


@pytest.fixture(scope="session")
def mask_cast(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    folder = tmp_path_factory.mktemp("mask_cast")
    inputs = MaskCastToFloat.onnxproof_inputs
    path = _exported(folder, "mask_cast", MaskCastToFloat().eval(), inputs)
    rng = np.random.default_rng(0)
    data = folder / "data.npz"
    mask = (rng.random((32, 8)) < 0.7).astype(np.int64)
    x = rng.standard_normal((32, 8, 16)).astype(np.float32)
    np.savez(data, x=x, mask=mask)
    return Exported(MaskCastToFloat().eval(), path, data, inputs)
