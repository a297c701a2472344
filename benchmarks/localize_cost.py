"""Cost of first-divergence localization: ``verify(localize=True)`` against a plain verify.

Model: an input Linear(64,64), K identical residual blocks (``x + Tanh(Linear(64,64)(x))``, the
Linear and the Tanh each a submodule) and a head Linear(64,10); seeded random weights; input
``x:float32[batch,64]``. It is exported once per K (``--layers``, default 6 and 48) with
``onnxproof.export``.

Measured in one process (wall time, ``time.perf_counter``), for each K, interleaved over
``--repeat`` rounds after one untimed warm-up round:

  plain      ``onnxproof.verify(model, onnx, inputs=[...], localize=False)``
  localized  ``onnxproof.verify(model, onnx, inputs=[...], localize=True)``; True localizes even
             when every output passes (on generated case 0)

Reported per K: medians (min-max), the ratio localized/plain by median against the goal of within
3x (and by min, steadier for runs this short on a noisy machine), the median of
``report.timings['localize']`` (localization alone) and of the plain run's ``check`` and
``verify`` timings, and the number of modules compared (trail
entries with ``diverged`` not None; the others have no ONNX counterpart) out of the trail.
The run exits with an error if a localized report has no localization.

Threads: torch and ONNX Runtime keep their defaults (``--threads N`` sets
``torch.set_num_threads(N)`` and wraps ``onnxruntime.SessionOptions`` so that every session made
in this process, onnxproof's included, gets ``intra_op_num_threads=N``).

Usage: ``python benchmarks/localize_cost.py [--layers 6,48] [--repeat N] [--threads N]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GOAL = 3.0
SEED = 0
INPUT = "x:float32[batch,64]"


def build_model(blocks: int) -> Any:
    """Input Linear, ``blocks`` residual Linear+Tanh blocks, head Linear; seeded weights."""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(64, 64)
            self.act = nn.Tanh()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.act(self.fc(x))

    class ResidualStack(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inp = nn.Linear(64, 64)
            self.blocks = nn.Sequential(*(Block() for _ in range(blocks)))
            self.head = nn.Linear(64, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.blocks(self.inp(x)))

    torch.manual_seed(SEED)
    return ResidualStack()


def set_threads(n: int) -> None:
    """``n`` intra-op threads for torch and for every ORT session made in this process."""
    import onnxruntime as ort
    import torch

    torch.set_num_threads(n)
    base = ort.SessionOptions

    def options() -> Any:
        made = base()
        made.intra_op_num_threads = n
        return made

    ort.SessionOptions = options  # onnxproof's OrtSession looks it up at each load


def verify_once(model: Any, onnx_path: Path, localize: bool) -> tuple[float, Any]:
    import onnxproof

    start = time.perf_counter()
    report = onnxproof.verify(model, onnx_path, inputs=[INPUT], localize=localize)
    return time.perf_counter() - start, report


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", default="6,48", help="comma-separated K values (6,48)")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch and ORT intra-op threads (0: defaults)"
    )
    opts = parser.parse_args()
    if opts.threads > 0:
        set_threads(opts.threads)

    import onnxruntime as ort
    import torch

    import onnxproof

    how = f"set to {opts.threads}" if opts.threads > 0 else "defaults for both"
    print(
        f"python {sys.version.split()[0]}, torch {torch.__version__}, onnxruntime "
        f"{ort.__version__}; threads ({how}): torch {torch.get_num_threads()}, ORT "
        f"intra_op_num_threads={ort.SessionOptions().intra_op_num_threads} (0 = ORT default)"
    )
    print(f"{opts.repeat} rounds per K, plain and localized interleaved after 1 warm-up round")
    print()

    rows: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        for k in (int(x) for x in opts.layers.split(",")):
            model = build_model(k)
            onnx_path = Path(tmp_name) / f"stack{k}.onnx"
            exported = onnxproof.export(model, inputs=[INPUT], output=onnx_path)
            plain: list[float] = []
            localized: list[float] = []
            alone: list[float] = []
            phases: dict[str, list[float]] = {"check": [], "verify": []}
            compared = trail = 0
            first: str | None = None
            statuses: set[str] = set()
            for round_ in range(opts.repeat + 1):
                wall_p, report_p = verify_once(model, onnx_path, localize=False)
                wall_l, report_l = verify_once(model, onnx_path, localize=True)
                loc = report_l.localization
                if loc is None:
                    sys.exit(f"error: K={k}: localize=True gave no localization")
                if report_p.localization is not None:
                    sys.exit(f"error: K={k}: localize=False localized")
                statuses.add(f"{report_p.status}/{report_l.status}")
                compared = sum(1 for m in loc.trail if m.diverged is not None)
                trail, first = len(loc.trail), loc.first_divergent_module
                if round_ > 0:
                    plain.append(wall_p)
                    localized.append(wall_l)
                    alone.append(report_l.timings["localize"])
                    for key, values in phases.items():
                        values.append(report_p.timings.get(key, float("nan")))
            ratio = statistics.median(localized) / statistics.median(plain)
            ratio_min = min(localized) / min(plain)
            verdict = "meets" if ratio <= GOAL else "MISSES"
            print(
                f"K={k}: exporter {exported.exporter}, {onnx_path.stat().st_size / 1024:.0f} KiB; "
                f"status plain/localized {', '.join(sorted(statuses))}; modules compared "
                f"{compared} of {trail} in the trail; first divergent module: {first}; plain "
                "verify's own timings, median s: "
                + ", ".join(f"{key} {statistics.median(v):.3f}" for key, v in phases.items())
            )
            rows.append(
                (
                    str(k),
                    spread(plain),
                    spread(localized),
                    spread(alone),
                    f"{ratio:.2f}x {verdict}",
                    f"{ratio_min:.2f}x",
                    str(compared),
                )
            )
    print()
    header = (
        "K",
        "plain s, median (min-max)",
        "localized s",
        "timings['localize'] s",
        f"localized/plain (goal {GOAL}x)",
        "by min",
        "compared",
    )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
