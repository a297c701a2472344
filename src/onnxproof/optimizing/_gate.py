"""The gate every variant must pass before it is written, and the tolerance preset per variant.

The gate is the task's own measure, not elementwise closeness (a quantized model is never
elementwise close to its float model, and need not be to be right):

- ``--task classification``: top-1 agreement with the reference over the evaluation samples,
  default ``top1 >= 0.99``.
- any other task: ``cosine >= C`` and ``rel_l2 <= R`` per float output, from the preset below.
- always: no output is inf/NaN where the reference is finite; for fp16 also no intermediate
  value (each one kept in float16, as fp16 hardware keeps it) overflows where float32 does not.

Presets, and why (``atol``/``rtol`` are the elementwise figures reported beside the gate):

============  ==========  ==========  ===========  ==========  ========
preset        atol        rtol        cosine >=    rel_l2 <=   drift dB
============  ==========  ==========  ===========  ==========  ========
lossless      1e-4        1e-3        0.99999      1e-3        60
fp16          1e-2        1e-2        0.9999       1e-2        40
int8          1e-1        1e-1        0.99         1e-1        15
============  ==========  ==========  ===========  ==========  ========

- lossless (ort-*, slim): a graph rewrite changes summation order only: float32's tolerance.
- fp16: 10 mantissa bits, ~1e-3 relative per op, accumulating over depth: 1% overall.
- int8: 256 levels per tensor (per channel for weights) give ~30-40 dB SQNR per tensor; 10%
  relative L2 at the output (20 dB) is the usual bar for a usable int8 model.
- drift dB: a node's output whose SQNR falls below this is where the variant broke.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from onnxproof.errors import UsageError
from onnxproof.results import DatasetReport, GateCheck


@dataclass(frozen=True)
class Preset:
    name: str
    atol: float
    rtol: float
    cosine: float
    rel_l2: float
    drift_db: float


PRESETS = {
    "lossless": Preset("lossless", 1e-4, 1e-3, 0.99999, 1e-3, 60.0),
    "fp16": Preset("fp16", 1e-2, 1e-2, 0.9999, 1e-2, 40.0),
    "int8": Preset("int8", 1e-1, 1e-1, 0.99, 1e-1, 15.0),
}
#: Top-1 agreement a classifier's variant needs by default.
TOP1 = 0.99
#: The metrics ``--gate`` may set: name → (lowest, highest) accepted value.
GATE_METRICS = {"top1": (0.0, 1.0), "cosine": (-1.0, 1.0), "rel_l2": (0.0, math.inf)}


def preset_of(variant: str) -> Preset:
    if variant == "fp16":
        return PRESETS["fp16"]
    if variant.startswith("int8"):
        return PRESETS["int8"]
    return PRESETS["lossless"]


def check_gate(gate: Mapping[str, float], task: str | None) -> None:
    """UsageError for an unknown metric, a value out of range, or top1 without a task."""
    for metric, value in gate.items():
        if metric not in GATE_METRICS:
            raise UsageError(
                f"unknown gate metric {metric!r}",
                hint=f"use {', '.join(GATE_METRICS)}, e.g. --gate top1=0.99",
            )
        low, high = GATE_METRICS[metric]
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise UsageError(f"gate {metric}={value!r} is not a number", hint="e.g. top1=0.99")
        if not low <= value <= high:
            raise UsageError(
                f"gate {metric}={value} is outside [{low}, {high}]",
                hint="top1 and cosine are fractions, rel_l2 a non-negative ratio",
            )
    if "top1" in gate and task != "classification":
        raise UsageError(
            "--gate top1 needs --task classification",
            hint="add --task classification, or gate on cosine / rel_l2",
        )


def parse_gate(values: tuple[str, ...]) -> dict[str, float]:
    """``--gate NAME=VALUE`` (repeatable) → {name: value}."""
    gate: dict[str, float] = {}
    for text in values:
        name, sep, number = text.partition("=")
        try:
            gate[name.strip()] = float(number)
        except ValueError:
            sep = ""
        if not sep:
            raise UsageError(f"--gate {text!r} is not NAME=VALUE", hint="e.g. --gate top1=0.99")
    return gate


def judge(
    dataset: DatasetReport, preset: Preset, task: str | None, gate: Mapping[str, float]
) -> tuple[GateCheck, ...]:
    """The gate's checks over a variant's evaluation figures."""
    checks: list[GateCheck] = []
    for out in dataset.outputs:
        if not out.dtype.startswith(("float", "bfloat")):
            checks.append(_check("exact", out.name, 1.0 - out.mismatch_fraction, 1.0, True))
            continue
        if out.reference_all_nonfinite:  # NaN on both sides everywhere: nothing was compared
            checks.append(_check("compared", out.name, 0.0, 1.0, True))
            continue
        finite = math.isfinite(out.max_abs_diff)
        checks.append(_check("finite", out.name, 1.0 if finite else 0.0, 1.0, True))
        if task == "classification" and "top1" in out.topk_agreement:
            top1 = out.topk_agreement["top1"]
            checks.append(_check("top1", out.name, top1, gate.get("top1", TOP1), True))
            continue
        cosine = gate.get("cosine", preset.cosine)
        rel_l2 = gate.get("rel_l2", preset.rel_l2)
        checks.append(_check("cosine", out.name, out.cosine_similarity, cosine, True))
        checks.append(_check("rel_l2", out.name, out.rel_l2_error, rel_l2, False))
    return tuple(checks)


def _check(metric: str, output: str, value: float, threshold: float, higher: bool) -> GateCheck:
    value = float(value)
    ok = bool(np.isfinite(value)) and (value >= threshold if higher else value <= threshold)
    return GateCheck(metric=metric, output=output, value=value, threshold=threshold, passed=ok)
