"""Parity over a dataset: batches compared one at a time, statistics merged per output.

Every batch gets its own statistics (``compare_batch``); a ``DatasetTally`` merges them in batch
order, keyed by batch id. The local engine feeds it batches as they stream past; the Ray engine
feeds it what its workers send back, in any order and possibly twice (a retried batch). Both go
through the same two functions, so the engines cannot drift: merged in batch order, per-batch
statistics give bit-identical figures to one accumulator fed batch by batch.

Memory stays flat as the dataset grows: one batch of inputs and outputs at a time, running
statistics per output (``stats.OutputStats``), only batches that arrived ahead of their turn
held back, and the first disagreeing batch kept (for localization).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from onnxproof.results import DatasetReport, PaddedMismatch
from onnxproof.runtimes import Session
from onnxproof.specs import TensorSpec
from onnxproof.verification._explain import explain_runtime_error
from onnxproof.verification.noise import reference_noise, small_outputs
from onnxproof.verification.padded_positions import FileDims, excuse_padded, padding_masks
from onnxproof.verification.stats import OutputStats
from onnxproof.verification.tolerance import TolerancePolicy

#: ``--task classification`` compares top-1 and top-5 predictions (last axis = classes).
TASK_TOPK = {"classification": (1, 5)}


@dataclass(frozen=True)
class DatasetOutcome:
    report: DatasetReport
    #: The first batch on which an output disagreed, for localization (None if all agreed).
    failing_batch: dict[str, np.ndarray] | None


@dataclass(frozen=True, kw_only=True)
class BatchResult:
    """One batch compared: its statistics per output, or the runtime error that stopped it."""

    batch_id: int
    first_index: int
    samples: int
    stats: dict[str, OutputStats] = field(default_factory=dict)
    error: str | None = None
    #: Outputs that differed only at padded positions: excused, the figures judge the tokens.
    padded_mismatches: tuple[PaddedMismatch, ...] = ()

    @property
    def disagrees(self) -> bool:
        return any(s.mismatches for s in self.stats.values())


def compare_batch(
    reference: Session,
    candidate: Session,
    batch: dict[str, np.ndarray],
    *,
    batch_id: int,
    first_index: int,
    specs: tuple[TensorSpec, ...],
    policy: TolerancePolicy,
    task: str | None = None,
    worst: int = 5,
    output_dims: dict[str, FileDims] | None = None,
) -> BatchResult:
    """Run one batch through both sides; a runtime error fails this batch, not the tool.

    An output that differs only where a padding mask says padding is judged on the token
    positions (see ``padded_positions``; ``output_dims`` as the file declares them)."""
    size = len(next(iter(batch.values())))
    try:
        expected = reference.infer(batch)
        actual = candidate.infer(batch)
    except Exception as exc:
        sizes = {s.name: list(batch[s.name].shape) for s in specs}
        last = first_index + size - 1
        error = (
            f"samples {first_index}..{last} {sizes}: {explain_runtime_error(str(exc), specs, {})}"
        )
        return BatchResult(batch_id=batch_id, first_index=first_index, samples=size, error=error)
    topk = TASK_TOPK.get(task or "", ())
    noise = reference_noise(reference, batch, expected, small_outputs(expected, policy))
    stats = {}
    masks = padding_masks(batch, specs)
    excused = []
    for name, ref in expected.items():
        atol, rtol = policy.for_output(name, str(ref.dtype))
        judges_scale = policy.judges_scale(name, str(ref.dtype))
        stats[name] = OutputStats(
            name, atol=atol, rtol=rtol, worst=worst, topk=topk, judges_scale=judges_scale
        )
        got = actual[name]
        excuse = (
            excuse_padded(
                name, got, ref, masks, atol=atol, rtol=rtol, dims=(output_dims or {}).get(name)
            )
            if masks
            else None
        )
        if excuse is not None:
            got = excuse.actual
            excused.append(excuse.mismatch)
        stats[name].update(got, ref, first_index=first_index)
        if name in noise:
            stats[name].add_noise(*noise[name])
    return BatchResult(
        batch_id=batch_id,
        first_index=first_index,
        samples=size,
        stats=stats,
        padded_mismatches=tuple(excused),
    )


class DatasetTally:
    """Per-batch results merged in batch-id order; a batch id seen twice counts once."""

    def __init__(self) -> None:
        self.stats: dict[str, OutputStats] = {}
        self.samples = self.batches = self.duplicates = 0
        self.errors: list[str] = []
        #: The lowest batch id whose outputs disagreed (for localization).
        self.first_failing: int | None = None
        self._next = 0
        self._waiting: dict[int, BatchResult] = {}
        self._seen: set[int] = set()
        #: Excused differences at padded positions, merged per (output, mask).
        self.padded: dict[tuple[str, str], PaddedMismatch] = {}

    def add(self, result: BatchResult) -> None:
        if result.batch_id in self._seen:  # a retried batch: the same inputs, the same figures
            self.duplicates += 1
            return
        self._seen.add(result.batch_id)
        self._waiting[result.batch_id] = result
        while self._next in self._waiting:  # merge strictly in order: sums add up identically
            self._merge(self._waiting.pop(self._next))
            self._next += 1

    def _merge(self, result: BatchResult) -> None:
        self.batches += 1
        self.samples += result.samples
        if result.error is not None:
            self.errors.append(result.error)
        for name, stats in result.stats.items():
            if name in self.stats:
                self.stats[name].merge(stats)
            else:
                self.stats[name] = stats
        if self.first_failing is None and result.disagrees:
            self.first_failing = result.batch_id
        for m in result.padded_mismatches:
            seen = self.padded.get((m.output, m.mask))
            if seen is not None:
                m = PaddedMismatch(
                    output=m.output,
                    mask=m.mask,
                    elements=seen.elements + m.elements,
                    max_abs_diff=max(seen.max_abs_diff, m.max_abs_diff),
                )
            self.padded[(m.output, m.mask)] = m

    def report(
        self,
        *,
        source: str,
        task: str | None,
        seconds: float,
        engine: str = "local",
        workers: int | None = None,
        samples_expected: int | None = None,
    ) -> DatasetReport:
        """The dataset report. Batches missing from the sequence are an error, never a pass;
        so is a sample count other than the one expected."""
        errors = list(self.errors)
        missing = sorted(self._waiting)
        if missing:
            errors.append(
                f"batch {self._next} never came back ({len(missing)} later batches were not merged)"
            )
        seen = self.samples + sum(r.samples for r in self._waiting.values())
        if samples_expected is not None and seen != samples_expected:
            errors.append(
                f"{seen} samples were compared but the data holds {samples_expected}: samples "
                "were lost or counted twice"
            )
        outputs = tuple(s.result() for s in self.stats.values())
        passed = self.samples > 0 and not errors and all(o.passed for o in outputs)
        return DatasetReport(
            source=source,
            samples=self.samples,
            batches=self.batches,
            passed=passed,
            task=task,
            outputs=outputs,
            errors=tuple(errors[:20]),
            failed_batches=len(self.errors),
            seconds=round(seconds, 3),
            engine=engine,
            workers=workers,
            samples_expected=samples_expected,
            padded_mismatches=tuple(self.padded.values()),
        )


def verify_dataset(
    reference: Session,
    candidate: Session,
    batches: Iterable[dict[str, np.ndarray]],
    *,
    source: str,
    specs: tuple[TensorSpec, ...],
    policy: TolerancePolicy,
    runtime: str,
    task: str | None = None,
    worst: int = 5,
    progress: Callable[[int], None] | None = None,
    output_dims: dict[str, FileDims] | None = None,
) -> DatasetOutcome:
    """The local engine: stream every batch through both sessions in this process."""
    start = time.perf_counter()
    tally = DatasetTally()
    failing: dict[str, np.ndarray] | None = None
    first_index = 0
    for batch_id, batch in enumerate(batches):
        result = compare_batch(
            reference,
            candidate,
            batch,
            batch_id=batch_id,
            first_index=first_index,
            specs=specs,
            policy=policy,
            task=task,
            worst=worst,
            output_dims=output_dims,
        )
        tally.add(result)
        if failing is None and result.disagrees:
            failing = {k: v.copy() for k, v in batch.items()}
        first_index += result.samples
        if progress is not None:
            progress(result.samples)
    report = tally.report(source=source, task=task, seconds=time.perf_counter() - start)
    return DatasetOutcome(report=report, failing_batch=failing)
