"""Size and latency of each optimize variant relative to the float32 file on ONNX Runtime CPU,
beside its top-1 agreement with eager PyTorch, for a small CNN and a tiny BERT, in one run.

Each model is exported by onnxproof, then ``onnxproof.optimize`` makes every variant from
random evaluation data (first half calibrates, the rest evaluates; the data is random, so top-1
agreement measures fidelity to the float model, not accuracy). Latency is the p50 over
``--budget`` seconds of calls on ort-cpu with one evaluation batch (``--batch`` samples).

Usage: python benchmarks/optimize.py [--samples 256] [--batch 32] [--budget 2]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

import onnxproof
from onnxproof.optimizing import OptimizeOptions

VARIANTS = ("ort-extended", "slim", "fp16", "int8-dynamic", "int8-static")


class SmallCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
        )  # fmt: skip
        self.head = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


def cnn(samples: int) -> tuple[nn.Module, list[str] | None, dict[str, np.ndarray]]:
    torch.manual_seed(0)
    model = SmallCNN().eval()
    x = np.random.default_rng(0).standard_normal((samples, 3, 32, 32)).astype(np.float32)
    return model, ["x:float32[batch,3,32,32]"], {"x": x}


def bert(samples: int) -> tuple[nn.Module, list[str] | None, dict[str, np.ndarray]]:
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=1000, hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=512, max_position_embeddings=128, num_labels=4,
    )  # fmt: skip
    ids = np.random.default_rng(0).integers(0, 1000, (samples, 32)).astype(np.int64)
    data = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": 0 * ids}
    return BertForSequenceClassification(config).eval(), None, data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--budget", type=float, default=2.0)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {ort.get_device()}, "
          f"onnxruntime {ort.__version__}, torch {torch.__version__}")  # fmt: skip
    header = f"{'model':<6} {'variant':<13} {'bytes':>10} {'size':>6} {'p50 ms':>8} "
    print(header + f"{'latency':>8} {'speed-up':>8} {'top-1':>6}  verdict")
    with tempfile.TemporaryDirectory() as scratch:
        for name, make in (("cnn", cnn), ("bert", bert)):
            model, inputs, arrays = make(args.samples)
            path = Path(scratch) / f"{name}.onnx"
            onnxproof.export(model, inputs=inputs, output=path)
            data = Path(scratch) / f"{name}.npz"
            np.savez(data, **arrays)
            options = OptimizeOptions(
                variants=VARIANTS,
                task="classification",
                output_dir=Path(scratch) / "out",
                latency_budget_s=args.budget,
            )
            report = onnxproof.optimize(
                model, path, inputs=inputs, data=data, batch_size=args.batch, options=options
            )
            print(f"{name:<6} {'fp32':<13} {report.size_bytes:>10,} {1:>6.2f} "
                  f"{report.p50_ms or 0:>8.3f} {1:>8.2f} {1:>8.2f} {'-':>6}  reference")  # fmt: skip
            for v in report.variants:
                top1 = next((c.value for c in v.gate if c.metric == "top1"), float("nan"))
                latency = (v.p50_ms or 0) / (report.p50_ms or 1)
                print(f"{name:<6} {v.name:<13} {v.size_bytes or 0:>10,} {v.size_ratio or 0:>6.2f} "
                      f"{v.p50_ms or 0:>8.3f} {latency:>8.2f} {v.speedup or 0:>8.2f} "
                      f"{top1:>6.3f}  {v.verdict}{' (excl. ' + str(len(v.excluded)) + ')' if v.excluded else ''}")  # fmt: skip


if __name__ == "__main__":
    main()
