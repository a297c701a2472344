"""The Ray engine against the local one on the same 20k samples, and what 1M samples would take.

Model: a tiny MLP, Linear(10,16)-ReLU-Linear(16,4), seeded weights, input ``x:float32[batch,10]``
(written to a temp file and loaded by reference, as the workers load it), exported once with
``onnxproof.export``. Data: ``--shards`` uncompressed .npz shards of ``--per-shard`` samples.

Measured (wall time, ``time.perf_counter``), interleaved over ``--repeat`` rounds:

  local     ``verify_dataset`` in this process: both sessions opened once, batches streamed
            (torch at one thread, as each Ray worker has; ORT at its default)
  ray       ``verify_dataset_ray`` with ``--workers`` actors on a Ray started once beforehand
            with ``num_cpus=workers`` (Ray's own start is timed apart: ``ray.init``)
  ray-tiny  the same on one shard of ``--batch`` samples: the fixed cost of a Ray run (planning,
            starting the actors, each loading the model and opening the session, one batch)
  merge     the driver's share per batch: unpickle a worker's ``BatchResult`` and merge it
            into the tally (measured on results made here)

Derived: the per-batch cost on one worker, ``c = (ray - ray-tiny) * workers / batches`` (Ray's
per-batch overhead included), and the projection for 1M samples at the same batch size on W
workers: ``ray-tiny + max(batches * c / W, batches * merge)``. Assumptions: each worker has its
own CPU and reads its shards as fast as here; batches spread evenly; the driver merges serially;
the cluster is already up (``ray.init`` and actor scheduling across machines not counted).

Usage: python benchmarks/engines.py [--shards 20] [--per-shard 1000] [--batch 100] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import onnxproof
from onnxproof import runtimes
from onnxproof.data.files import open_data
from onnxproof.engines.ray import ModelRecipe, verify_dataset_ray
from onnxproof.loading import load_model
from onnxproof.specs import parse_input_specs
from onnxproof.verification.dataset import DatasetTally, compare_batch, verify_dataset
from onnxproof.verification.tolerance import TolerancePolicy

MODEL = """
import torch
from torch import nn


class TinyMLP(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 4))

    def forward(self, x):
        return self.net(x)
"""
SPECS = parse_input_specs(("x:float32[batch,10]",))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shards", type=int, default=20)
    parser.add_argument("--per-shard", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    (work / "tiny.py").write_text(MODEL)
    reference = f"{work / 'tiny.py'}:TinyMLP"
    module = load_model(reference).module.eval()
    onnx_path = work / "m.onnx"
    onnxproof.export(module, inputs=["x:float32[batch,10]"], output=onnx_path)
    data, tiny = work / "data", work / "tiny"
    data.mkdir()
    tiny.mkdir()
    rng = np.random.default_rng(0)
    for i in range(args.shards):
        np.savez(data / f"{i:04d}.npz", x=rng.standard_normal((args.per_shard, 10), np.float32))
    np.savez(tiny / "0.npz", x=rng.standard_normal((args.batch, 10), np.float32))
    samples = args.shards * args.per_shard
    batches = -(-samples // args.batch)

    def local() -> float:
        start = time.perf_counter()
        ref = runtimes.get(
            "torch", module=module, input_names=("x",), output_names=("output",), threads=1
        )
        with ref.load(str(onnx_path)) as r, runtimes.get("ort-cpu").load(str(onnx_path)) as c:
            _, stream = open_data(data, SPECS, batch_size=args.batch)
            report = verify_dataset(
                r, c, stream, source="", specs=SPECS, policy=TolerancePolicy(), runtime="ort-cpu"
            ).report
        assert report.passed and report.samples == samples
        return time.perf_counter() - start

    def ray_run(folder: Path, expected: int) -> float:
        start = time.perf_counter()
        report = verify_dataset_ray(
            model=ModelRecipe(reference=reference, state=module.state_dict()),
            onnx_path=onnx_path,
            data=folder,
            specs=SPECS,
            output_names=("output",),
            policy=TolerancePolicy(),
            batch_size=args.batch,
            workers=args.workers,
        ).report
        assert report.passed and report.samples == report.samples_expected == expected
        return time.perf_counter() - start

    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    start = time.perf_counter()
    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
    init_s = time.perf_counter() - start
    times: dict[str, list[float]] = {"local": [], "ray": [], "ray-tiny": []}
    for _ in range(args.repeat):
        times["local"].append(local())
        times["ray"].append(ray_run(data, samples))
        times["ray-tiny"].append(ray_run(tiny, args.batch))
    ray.shutdown()
    merge_s = merge_cost(module, onnx_path, args.batch)

    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"samples {samples}, batches {batches} of {args.batch}, workers {args.workers}")
    print(f"ray.init: {init_s:.2f} s (once, not in the figures below)")
    for name, values in times.items():
        print(
            f"{name:9s} median {med[name]:.2f} s  (" + ", ".join(f"{v:.2f}" for v in values) + ")"
        )
    print(f"ratio ray/local: {med['ray'] / med['local']:.2f}")
    local_batch = med["local"] / batches
    per_batch = (med["ray"] - med["ray-tiny"]) * args.workers / batches
    print(
        f"per batch: local {local_batch * 1e3:.2f} ms; on one Ray worker {per_batch * 1e3:.2f} ms"
        f" (Ray's overhead per batch {(per_batch - local_batch) * 1e3:+.2f} ms); driver merge "
        f"{merge_s * 1e3:.3f} ms"
    )
    big = -(-1_000_000 // args.batch)
    print(f"projected for 1M samples ({big} batches of {args.batch}):")
    print(f"  local engine: {big * local_batch:.0f} s")
    for workers in (1, 8, 64):
        compute = big * per_batch / workers
        total = med["ray-tiny"] + max(compute, big * merge_s)
        print(
            f"  ray, {workers:2d} workers: {total:.0f} s (compute {compute:.0f} s, driver merge "
            f"{big * merge_s:.1f} s)"
        )


def merge_cost(module: object, onnx_path: Path, batch: int, n: int = 200) -> float:
    """Seconds per batch for the driver: unpickle one worker result and merge it in order."""
    ref = runtimes.get("torch", module=module, input_names=("x",), output_names=("output",))
    rng = np.random.default_rng(1)
    with ref.load(str(onnx_path)) as r, runtimes.get("ort-cpu").load(str(onnx_path)) as c:
        blobs = [
            pickle.dumps(
                compare_batch(
                    r,
                    c,
                    {"x": rng.standard_normal((batch, 10), np.float32)},
                    batch_id=i,
                    first_index=i * batch,
                    specs=SPECS,
                    policy=TolerancePolicy(),
                )
            )
            for i in range(n)
        ]
    tally = DatasetTally()
    start = time.perf_counter()
    for blob in blobs:
        tally.add(pickle.loads(blob))
    return (time.perf_counter() - start) / n


if __name__ == "__main__":
    sys.exit(main())
