"""onnxproof bench against a hand-written timing loop, and runtime latency ratios, in one run.

For each model (SimpleNet, a small CNN, and a tiny BERT from its transformers config when
transformers is installed) and batch size (1 and 32):

  (a) ``onnxproof.bench`` p50 for every runtime given with --runtime (eager PyTorch included);
  (b) a hand-written loop over the same ONNX Runtime session API (``sess.run(None, feeds)``,
      ``time.perf_counter`` around each call, same warm-up and iteration count).

Reported: onnxproof's overhead on ort-cpu ((a) / (b) - 1, the goal is at most 5%), and for every
runtime its p50 ratio to ort-cpu and to eager PyTorch at each batch size. The machine is shared
and noisy: (a) and (b) alternate in rounds and the medians over rounds are kept.

Usage: python benchmarks/bench_overhead.py [--rounds 5] [--iterations 300] [--runtime NAME ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

import onnxproof
from onnxproof.options import BenchOptions

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.simple_net import SimpleNet  # noqa: E402


class SmallCNN(nn.Module):
    onnxproof_inputs = ["x:float32[batch,3,32,32]"]

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
        )  # fmt: skip
        self.head = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


def tiny_bert() -> tuple[nn.Module, list[str]] | None:
    try:
        from transformers import BertConfig, BertModel
    except ImportError:
        return None
    config = BertConfig(
        vocab_size=1000, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=128, max_position_embeddings=128,
    )  # fmt: skip
    return BertModel(config), ["input_ids:int64[batch,seq=32]{0..999}"]


def hand_loop(path: str, feeds: dict[str, np.ndarray], warmup: int, iterations: int) -> float:
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    for _ in range(warmup):
        sess.run(None, feeds)
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        sess.run(None, feeds)
        times.append(time.perf_counter() - start)
    return float(np.percentile(times, 50)) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--runtime", action="append", default=None)
    args = parser.parse_args()
    runtimes = tuple(args.runtime or ["ort-cpu"])
    if "ort-cpu" not in runtimes:
        runtimes = ("ort-cpu", *runtimes)
    cases: list[tuple[str, nn.Module, list[str]]] = [
        ("SimpleNet", SimpleNet(), ["input:float32[batch,10]"]),
        ("SmallCNN", SmallCNN(), SmallCNN.onnxproof_inputs),
    ]
    bert = tiny_bert()
    if bert is not None:
        cases.append(("tiny BERT", bert[0], bert[1]))
    print(f"{len(cases)} models, batches 1 and 32, {args.rounds} rounds x {args.iterations} calls")
    with tempfile.TemporaryDirectory() as scratch:
        for label, model, inputs in cases:
            path = str(Path(scratch) / f"{label.replace(' ', '_')}.onnx")
            ours: dict[tuple[str, int], list[float]] = {}
            theirs: dict[int, list[float]] = {1: [], 32: []}
            for round_ in range(args.rounds):
                report = onnxproof.bench(
                    model,
                    path if round_ else None,
                    inputs=inputs,
                    output=path,
                    options=BenchOptions(
                        runtimes=runtimes, batches=(1, 32), warmup=10, iterations=args.iterations
                    ),
                )
                for row in report.rows:
                    if row.p50_ms is not None:
                        ours.setdefault((row.runtime, row.batch), []).append(row.p50_ms)
                for batch in (1, 32):
                    from onnxproof.pipeline._bench import _feeds

                    specs = onnxproof.pipeline._context.prepare(model, None, inputs, None)[1]
                    feeds = _feeds(specs, "batch", BenchOptions(batches=(batch,)))[batch]
                    theirs[batch].append(hand_loop(path, feeds, 10, args.iterations))
            print(
                f"\n{label}  (verdicts: "
                f"{', '.join(f'{r}={report.verdict_of(r)}' for r in runtimes)})"
            )
            print(f"{'runtime':<16}{'batch':>6}{'p50 ms':>11}{'vs ort-cpu':>12}{'vs torch':>10}")
            for batch in (1, 32):
                base = statistics.median(ours[("ort-cpu", batch)])
                eager = statistics.median(ours.get(("torch", batch), [float("nan")]))
                for runtime in ("torch", *runtimes):
                    if (runtime, batch) not in ours:
                        print(f"{runtime:<16}{batch:>6}  not run")
                        continue
                    p50 = statistics.median(ours[(runtime, batch)])
                    print(
                        f"{runtime:<16}{batch:>6}{p50:>11.4f}{p50 / base:>11.2f}x"
                        f"{p50 / eager:>9.2f}x"
                    )
                hand = statistics.median(theirs[batch])
                print(
                    f"{'hand-written':<16}{batch:>6}{hand:>11.4f}   overhead of onnxproof "
                    f"bench on ort-cpu: {(base / hand - 1) * 100:+.1f}%"
                )


if __name__ == "__main__":
    main()
