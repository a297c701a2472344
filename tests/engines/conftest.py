"""A 20k-sample sharded dataset, tiny models exported once, and one small Ray per module."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import onnxproof
from onnxproof import runtimes
from onnxproof.data.files import open_data
from onnxproof.loading import load_model
from onnxproof.specs import TensorSpec, parse_input_specs
from onnxproof.verification.dataset import DatasetOutcome, verify_dataset
from onnxproof.verification.tolerance import TolerancePolicy

TINY = Path(__file__).with_name("tiny.py")
SPECS: tuple[TensorSpec, ...] = parse_input_specs(("x:float32[batch,10]",))
SHARDS, PER_SHARD = 20, 1000
#: Samples with feature 0 above 4 exist only in these shards, at these rows.
PLANTED = {3: (17, 500, 999), 17: (0, 321)}
BATCH = 100


def planted_indices() -> list[int]:
    return sorted(shard * PER_SHARD + row for shard, rows in PLANTED.items() for row in rows)


@pytest.fixture(scope="session")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 .npz shards of 1000 samples; |x| < 3.5 except the planted samples (feature 0 = 6..)."""
    folder = tmp_path_factory.mktemp("shards")
    rng = np.random.default_rng(0)
    for shard in range(SHARDS):
        x = rng.standard_normal((PER_SHARD, 10)).clip(-3.5, 3.5).astype(np.float32)
        for k, row in enumerate(PLANTED.get(shard, ())):
            x[row, 0] = 6.0 + k  # distinct sizes: the worst sample is known
        np.savez(folder / f"part-{shard:03d}.npz", x=x)
    return folder


@dataclass(frozen=True)
class Exported:
    reference: str
    module: Any
    onnx_path: Path


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Exported]:
    folder = tmp_path_factory.mktemp("models")
    out = {}
    for name in ("TinyMLP", "DivergesAboveFour"):
        reference = f"{TINY}:{name}"
        module = load_model(reference).module.eval()
        path = folder / f"{name}.onnx"
        onnxproof.export(module, inputs=["x:float32[batch,10]"], output=path)
        out[name] = Exported(reference, module, path)
    return out


def run_local(model: Exported, data: Path, batch_size: int = BATCH) -> DatasetOutcome:
    """Today's path: one process, batches streamed (one torch thread, as each Ray worker has)."""
    reference = runtimes.get(
        "torch", module=model.module, input_names=("x",), output_names=("output",), threads=1
    )
    with (
        reference.load(str(model.onnx_path)) as ref,
        runtimes.get("ort-cpu").load(str(model.onnx_path)) as candidate,
    ):
        source, batches = open_data(data, SPECS, batch_size=batch_size)
        return verify_dataset(
            ref,
            candidate,
            batches,
            source=source.description,
            specs=SPECS,
            policy=TolerancePolicy(),
            runtime="ort-cpu",
        )


@pytest.fixture(scope="module")
def ray_cluster() -> Any:
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
