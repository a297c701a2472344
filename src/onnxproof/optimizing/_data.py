"""Calibration and evaluation samples, kept apart: a variant calibrated on the samples it is then
judged on would be judged on its own homework.

- ``--calib-data`` given: it calibrates, all of ``--data`` evaluates.
- ``--data`` only: its first half (in file order) calibrates, the rest evaluates.
- neither: seeded synthetic inputs from the specs, calibration and evaluation drawn from
  different seeds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from onnxproof.data import synthetic_cases
from onnxproof.errors import DataError
from onnxproof.specs import TensorSpec

Batch = dict[str, np.ndarray]
#: Synthetic samples when no data is given: batches of this many, this many batches each side.
SYNTHETIC_BATCH = 8
SYNTHETIC_BATCHES = 8


@dataclass(frozen=True)
class Samples:
    calibration: list[Batch]
    evaluation: list[Batch]
    description: str

    @property
    def calibration_samples(self) -> int:
        return count(self.calibration)

    @property
    def evaluation_samples(self) -> int:
        return count(self.evaluation)


def count(batches: list[Batch]) -> int:
    return sum(len(next(iter(b.values()))) for b in batches if b)


def split(batches: Iterable[Batch], source: str, batch_size: int) -> Samples:
    """First half of the samples calibrates, the rest evaluates (cut inside a batch if need be)."""
    everything = list(batches)
    total = count(everything)
    if total < 2:
        raise DataError(
            f"{source} holds {total} sample(s): too few to split into calibration and evaluation",
            hint="give at least 2 samples, or calibration data of its own with --calib-data",
        )
    cut = total // 2
    calibration, evaluation, seen = [], [], 0
    for batch in everything:
        size = len(next(iter(batch.values())))
        if seen + size <= cut:
            calibration.append(batch)
        elif seen >= cut:
            evaluation.append(batch)
        else:
            at = cut - seen
            calibration.append({k: v[:at] for k, v in batch.items()})
            evaluation.append({k: v[at:] for k, v in batch.items()})
        seen += size
    description = (
        f"{source}: samples 0..{cut - 1} calibrate, {cut}..{total - 1} evaluate "
        "(first half / rest; give --calib-data to calibrate on other data)"
    )
    return Samples(calibration, _rebatched(evaluation, batch_size), description)


def apart(
    calibration: Iterable[Batch], evaluation: Iterable[Batch], calib: str, data: str
) -> Samples:
    """Calibration and evaluation from two sources."""
    samples = Samples(list(calibration), list(evaluation), "")
    return Samples(
        samples.calibration,
        samples.evaluation,
        f"{calib} calibrates ({samples.calibration_samples} samples), "
        f"{data} evaluates ({samples.evaluation_samples} samples)",
    )


def synthetic(specs: tuple[TensorSpec, ...], seed: int) -> Samples:
    """Seeded inputs at the specs' example sizes with a batch of ``SYNTHETIC_BATCH``."""
    sizes = {d.name: d.size for s in specs for d in s.dims if d.name is not None}
    if specs and specs[0].dims and specs[0].dims[0].name is not None:
        sizes[specs[0].dims[0].name] = SYNTHETIC_BATCH

    def draw(offset: int) -> list[Batch]:
        cases = synthetic_cases(
            specs, seed=seed + offset, draws=("normal",), sizes=[sizes] * SYNTHETIC_BATCHES
        )
        return [dict(c.feeds) for c in cases]

    return Samples(
        draw(1),
        draw(0),
        f"synthetic inputs (no --data): {SYNTHETIC_BATCHES} batches of seed {seed + 1} "
        f"calibrate, {SYNTHETIC_BATCHES} of seed {seed} evaluate",
    )


def _rebatched(batches: list[Batch], batch_size: int) -> list[Batch]:
    """Evaluation batches of at most ``batch_size`` (a cut batch may be small)."""
    out: list[Batch] = []
    for batch in batches:
        size = len(next(iter(batch.values())))
        for start in range(0, size, batch_size):
            out.append({k: v[start : start + batch_size] for k, v in batch.items()})
    return out
