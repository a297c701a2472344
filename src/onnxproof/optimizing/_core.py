"""Make each variant, verify it like a fresh export, retry a failing one with the node that broke
it kept in float, and write only the variants that pass their gate."""

from __future__ import annotations

import logging
import math
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx

from onnxproof import runtimes
from onnxproof.errors import OnnxproofError, UsageError
from onnxproof.optimizing._build import CALIBRATION_METHODS, EXCLUDABLE, VARIANTS, Built, build
from onnxproof.optimizing._data import Samples
from onnxproof.optimizing._drift import node_drift
from onnxproof.optimizing._gate import Preset, check_gate, judge, preset_of
from onnxproof.results import (
    DatasetReport,
    DriftReport,
    GateCheck,
    OptimizeReport,
    VariantResult,
    VariantRound,
)
from onnxproof.runtimes import Session
from onnxproof.specs import TensorSpec
from onnxproof.verification.dataset import verify_dataset
from onnxproof.verification.tolerance import TolerancePolicy

log = logging.getLogger(__name__)

DEFAULT_VARIANTS = ("ort-extended", "slim", "fp16", "int8-dynamic", "int8-static")
#: Samples of the first evaluation batch that the per-node drift analysis runs on.
DRIFT_SAMPLES = 16


@dataclass(frozen=True, kw_only=True)
class OptimizeOptions:
    """Which variants to make, how to judge them, and where the passing ones go."""

    variants: Sequence[str] = DEFAULT_VARIANTS
    #: Folder for the passing variants (``<stem>.<variant>.onnx``); None: nothing is written.
    output_dir: str | Path | None = None
    task: str | None = None
    #: Gate overrides: top1, cosine, rel_l2 (``_gate`` documents the defaults per preset).
    gate: Mapping[str, float] = field(default_factory=dict)
    calibration: str = "minmax"
    #: Retries of a failing fp16/int8 variant, each with more nodes kept in float.
    max_rounds: int = 3
    #: Seconds of timed runs per variant on ort-cpu (p50 latency).
    latency_budget_s: float = 0.5
    #: Keep fp16's precision-sensitive ops in float32 (off only to show why they are kept).
    fp16_block_list: bool = True
    seed: int = 0


def check_options(options: OptimizeOptions) -> None:
    """Everything about the options that can be refused before any work (exit 2)."""
    unknown = [v for v in options.variants if v not in VARIANTS]
    if unknown or not options.variants:
        raise UsageError(
            f"unknown variant(s) {unknown}" if unknown else "no variant asked for",
            hint=f"choose from {', '.join(VARIANTS)}",
        )
    if options.calibration not in CALIBRATION_METHODS:
        raise UsageError(
            f"unknown calibration method {options.calibration!r}",
            hint=f"use one of {', '.join(CALIBRATION_METHODS)}",
        )
    if options.max_rounds < 0:
        raise UsageError("max_rounds must be >= 0", hint="0 turns the retries off")
    check_gate(options.gate, options.task)


class RecordedReference(Session):
    """The reference's outputs computed once per evaluation batch, shared by every variant."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._outputs: dict[int, dict[str, np.ndarray]] = {}

    @property
    def input_names(self) -> tuple[str, ...]:
        return self._session.input_names

    @property
    def output_names(self) -> tuple[str, ...]:
        return self._session.output_names

    @property
    def input_dtypes(self) -> dict[str, np.dtype]:
        return self._session.input_dtypes

    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        key = id(feeds)  # the evaluation batches are the same objects for every variant
        if key not in self._outputs:
            self._outputs[key] = self._session.infer(feeds)
        return self._outputs[key]


@dataclass
class _Run:
    """What every variant's rounds share."""

    onnx_path: Path
    exported: onnx.ModelProto
    reference: RecordedReference
    specs: tuple[TensorSpec, ...]
    samples: Samples
    options: OptimizeOptions
    scratch: Path
    baseline_ms: float | None
    baseline_bytes: int
    built: dict[tuple[str, int], Path] = field(default_factory=dict)


def optimize_file(
    onnx_path: str | Path,
    reference: Session,
    specs: tuple[TensorSpec, ...],
    samples: Samples,
    options: OptimizeOptions,
    *,
    model: str | None,
    reference_label: str,
    fresh_weights: bool = False,
) -> OptimizeReport:
    """Every variant of ``onnx_path`` made, judged against ``reference`` and, when it passes,
    written to ``options.output_dir``. ``fresh_weights``: the model was built here with new
    random weights; if the float file does not match it, that is another model, and a
    UsageError before any variant is built."""
    from onnxproof import environment

    check_options(options)
    _check_output_dir(options.output_dir)
    path = Path(onnx_path)
    recorded = RecordedReference(reference)
    baseline_bytes = file_bytes(path)
    with tempfile.TemporaryDirectory(prefix="onnxproof-optimize-") as scratch:
        run = _Run(
            onnx_path=path,
            exported=onnx.load(str(path), load_external_data=False),
            reference=recorded,
            specs=specs,
            samples=samples,
            options=options,
            scratch=Path(scratch),
            baseline_ms=_p50(path, samples, options),
            baseline_bytes=baseline_bytes,
        )
        baseline = _verified(run, path, preset_of("fp32")) if model is not None else None
        if fresh_weights and baseline is not None and not baseline.passed:
            raise UsageError(
                f"{path} does not compute what {model} computes: the model was built here with "
                "fresh random weights, so every variant would be judged against another model",
                hint="give --weights with the file's weights, or leave the model out to judge "
                "the variants against the float file itself",
            )
        results = [_variant(run, name) for name in dict.fromkeys(options.variants)]
        results = [_written(run, r) for r in results]
    passing = [r for r in results if r.verdict == "pass"]
    best = min(passing, key=lambda r: (r.size_bytes or 0, r.p50_ms or 0.0), default=None)
    return OptimizeReport(
        model=model,
        onnx_path=str(path),
        reference=reference_label,
        task=options.task,
        data=samples.description,
        calibration_samples=samples.calibration_samples,
        evaluation_samples=samples.evaluation_samples,
        size_bytes=baseline_bytes,
        p50_ms=run.baseline_ms,
        variants=tuple(results),
        best=best.name if best else None,
        output_dir=str(options.output_dir) if options.output_dir is not None else None,
        status="pass" if passing else "fail",
        baseline=baseline,
        environment=environment.collect(),
    )


def _variant(run: _Run, name: str) -> VariantResult:
    """Round 0 as asked; while it fails, exclude what the drift analysis blamed and rebuild."""
    preset = preset_of(name)
    excluded: tuple[str, ...] = ()
    rounds: list[VariantRound] = []
    for number in range(run.options.max_rounds + 1):
        result = _round(run, name, number, excluded, preset)
        rounds.append(result)
        if result.verdict != "fail" or name not in EXCLUDABLE or result.drift is None:
            break
        fresh = tuple(n for n in result.drift.blamed if n not in excluded)
        if not fresh or number == run.options.max_rounds:
            break
        log.info("%s round %d: excluding %s", name, number + 1, ", ".join(fresh))
        excluded = (*excluded, *fresh)
    last = rounds[-1]
    ratio = (
        round(last.size_bytes / run.baseline_bytes, 4)
        if last.size_bytes is not None and run.baseline_bytes
        else None
    )
    speedup = (
        round(run.baseline_ms / last.p50_ms, 3)
        if last.p50_ms and run.baseline_ms is not None
        else None
    )
    return VariantResult(
        name=name,
        method=VARIANTS[name],
        preset=preset.name,
        verdict=last.verdict,
        size_bytes=last.size_bytes,
        size_ratio=ratio,
        p50_ms=last.p50_ms,
        speedup=speedup,
        gate=last.gate,
        excluded=last.excluded,
        rounds=tuple(rounds),
        error=last.error,
    )


def _round(
    run: _Run, name: str, number: int, excluded: tuple[str, ...], preset: Preset
) -> VariantRound:
    options = run.options
    try:
        built = build(
            name,
            run.onnx_path,
            run.scratch,
            calibration=run.samples.calibration,
            method=options.calibration,
            exclude=excluded,
            fp16_blocks=options.fp16_block_list,
            tag=f".round{number}",
        )
    except Exception as exc:
        return VariantRound(
            round=number, excluded=excluded, verdict="error", error=f"build failed: {_line(exc)}"
        )
    size = file_bytes(built.path)
    try:
        dataset = _verified(run, built.path, preset)
    except OnnxproofError:
        raise  # the user's options or data, not this variant
    except Exception as exc:
        return VariantRound(
            round=number,
            excluded=excluded,
            verdict="error",
            size_bytes=size,
            error=f"ort-cpu could not load it: {_line(exc)}",
            notes=built.notes,
        )
    gate, drift = _judged(run, name, built, dataset, preset)
    passed = all(c.passed for c in gate)
    run.built[(name, number)] = built.path
    return VariantRound(
        round=number,
        excluded=excluded,
        verdict="pass" if passed else "fail",
        size_bytes=size,
        p50_ms=_p50(built.path, run.samples, options),
        gate=tuple(gate),
        dataset=dataset,
        drift=drift,
        notes=built.notes,
    )


def _judged(
    run: _Run, name: str, built: Built, dataset: DatasetReport, preset: Preset
) -> tuple[list[GateCheck], DriftReport | None]:
    """The gate's checks on the evaluation figures, and the per-node drift when it failed (fp16
    always: its overflow shows only with every value kept in float16, module ``_drift``)."""
    options = run.options
    gate = list(judge(dataset, preset, options.task, options.gate))
    if dataset.errors or not dataset.samples or not gate:
        # A batch that failed to run, or nothing compared at all, is never a pass.
        gate.append(GateCheck(metric="ran", output="*", value=0.0, threshold=1.0, passed=False))
    drift = None
    if name == "fp16" or not all(c.passed for c in gate):
        drift = _drift(run, name, built)
    if name == "fp16":
        # Part of fp16's verdict, not only its explanation: without the drift run the overflow
        # was not looked for, and the check fails rather than pass unseen.
        overflowed = float(len(drift.overflowed)) if drift is not None else math.inf
        gate.append(
            GateCheck(
                metric="no-overflow",
                output="(intermediate values)",
                value=overflowed,
                threshold=0.0,
                passed=drift is not None and not drift.overflowed,
            )
        )
    return gate, drift


def _verified(run: _Run, path: Path, preset: Preset) -> DatasetReport:
    """The evaluation samples through the reference and ``path`` on ort-cpu."""
    policy = TolerancePolicy(atol=preset.atol, rtol=preset.rtol)
    with runtimes.get("ort-cpu").load(str(path)) as session:
        outcome = verify_dataset(
            run.reference,
            session,
            run.samples.evaluation,
            source=run.samples.description,
            specs=run.specs,
            policy=policy,
            runtime="ort-cpu",
            task=run.options.task,
        )
    return outcome.report


def _drift(run: _Run, name: str, built: Built) -> DriftReport | None:
    if not run.samples.evaluation:
        return None
    feeds = {k: v[:DRIFT_SAMPLES] for k, v in run.samples.evaluation[0].items()}
    try:
        return node_drift(
            built.float_path,
            built.path,
            feeds,
            _run_file,
            threshold_db=preset_of(name).drift_db,
            scopes_from=run.exported,
            quantized=name.startswith("int8"),
        )
    except Exception as exc:  # drift is an explanation, not the verdict
        log.info("per-node drift of %s left out: %s", name, exc)
        return None


def _run_file(path: str, feeds: Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
    with runtimes.get("ort-cpu").load(path) as session:
        return session.infer(dict(feeds))


def _p50(path: Path, samples: Samples, options: OptimizeOptions) -> float | None:
    from onnxproof.benchmarking import time_runtime

    if not samples.evaluation:
        return None
    feeds = samples.evaluation[0]
    batch = len(next(iter(feeds.values())))
    rows = time_runtime(
        "ort-cpu", str(path), {batch: feeds}, warmup=2, budget_s=options.latency_budget_s
    )
    return rows[0].p50_ms if rows and rows[0].error is None else None


def _check_output_dir(folder: str | Path | None) -> None:
    """A folder the variants can go to, checked before any variant is built and made only when
    a variant is written: a path under a file, or a folder that cannot be written, fails now."""
    if folder is None:
        return
    path = Path(folder).absolute()
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    problem = None
    if existing is None or not existing.is_dir():
        problem = f"{existing} is not a folder"
    elif not os.access(existing, os.W_OK | os.X_OK):
        problem = f"{existing} is not writable"
    if problem is not None:
        raise UsageError(
            f"cannot write the variants to {folder}: {problem}",
            hint="give -o a folder that can be created",
        )


def _written(run: _Run, result: VariantResult) -> VariantResult:
    """A passing variant written (temp file, then rename) with onnxproof's mark; a failing one
    never, and a file an earlier run wrote at its path (marked as this variant) is removed, so
    the folder holds only what passed now. A file there without the mark is not onnxproof's:
    it is kept, and the result says so."""
    import dataclasses

    from onnxproof.optimizing._marker import write_marked, written_by_onnxproof

    if run.options.output_dir is None:
        return result
    target = Path(run.options.output_dir) / f"{run.onnx_path.stem}.{result.name}.onnx"
    if result.verdict != "pass":
        if os.path.lexists(target) and not written_by_onnxproof(target, result.name):
            log.info("keeping %s: onnxproof did not write it", target)
            return dataclasses.replace(result, kept=str(target))
        if target.is_file():
            log.info("removing %s: the variant failed its gate in this run", target)
            try:
                target.unlink()
            except OSError as exc:
                raise UsageError(
                    f"{target} is left from an earlier run and could not be removed ({exc}); "
                    "the variant failed its gate in this run",
                    hint="remove it by hand, or write to another folder with -o",
                ) from exc
        return result
    source = run.built[(result.name, result.rounds[-1].round)]
    written = write_marked(source, target, result.name)
    return dataclasses.replace(result, written=str(written))


def file_bytes(path: Path) -> int:
    """The file and the external data it names (weights beside it count too)."""
    total = os.path.getsize(path)
    model = onnx.load(str(path), load_external_data=False)
    seen: set[str] = set()
    for tensor in _tensors(model.graph):
        for entry in tensor.external_data:
            if entry.key == "location" and entry.value not in seen:
                seen.add(entry.value)
                side = path.parent / entry.value
                if side.is_file():
                    total += os.path.getsize(side)
    return total


def _tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    yield from graph.initializer


def _line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
