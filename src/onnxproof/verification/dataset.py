"""Parity over a dataset: batches streamed through both sides, statistics kept per output.

Memory stays flat as the dataset grows: one batch of inputs and outputs at a time, running
statistics per output (``stats.OutputStats``), and only the first disagreeing batch kept (for
localization).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from onnxproof.results import DatasetReport
from onnxproof.runtimes import Session
from onnxproof.specs import TensorSpec
from onnxproof.verification._explain import explain_runtime_error
from onnxproof.verification.stats import OutputStats
from onnxproof.verification.tolerance import TolerancePolicy

#: ``--task classification`` compares top-1 and top-5 predictions (last axis = classes).
TASK_TOPK = {"classification": (1, 5)}


@dataclass(frozen=True)
class DatasetOutcome:
    report: DatasetReport
    #: The first batch on which an output disagreed, for localization (None if all agreed).
    failing_batch: dict[str, np.ndarray] | None


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
) -> DatasetOutcome:
    """Stream every batch through both sessions; a runtime error fails that batch, not the tool."""
    start = time.perf_counter()
    topk = TASK_TOPK.get(task or "", ())
    stats: dict[str, OutputStats] = {}
    samples = batch_count = 0
    errors: list[str] = []
    failing: dict[str, np.ndarray] | None = None
    for batch in batches:
        size = len(next(iter(batch.values())))
        batch_count += 1
        try:
            expected = reference.infer(batch)
            actual = candidate.infer(batch)
        except Exception as exc:
            sizes = {s.name: list(batch[s.name].shape) for s in specs}
            errors.append(
                f"samples {samples}..{samples + size - 1} {sizes}: {explain_runtime_error(str(exc), specs, {})}"
            )
        else:
            for name, ref in expected.items():
                if name not in stats:
                    atol, rtol = policy.for_output(name, str(ref.dtype))
                    stats[name] = OutputStats(name, atol=atol, rtol=rtol, worst=worst, topk=topk)
                before = stats[name].mismatches
                stats[name].update(actual[name], ref, first_index=samples)
                if failing is None and stats[name].mismatches > before:
                    failing = {k: v.copy() for k, v in batch.items()}
        samples += size
        if progress is not None:
            progress(size)
    outputs = tuple(s.result() for s in stats.values())
    passed = samples > 0 and not errors and all(o.passed for o in outputs)
    report = DatasetReport(
        source=source,
        samples=samples,
        batches=batch_count,
        passed=passed,
        task=task,
        outputs=outputs,
        errors=tuple(errors[:20]),
        failed_batches=len(errors),
        seconds=round(time.perf_counter() - start, 3),
    )
    return DatasetOutcome(report=report, failing_batch=failing)
