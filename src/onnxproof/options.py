"""Option objects for the pipeline: how to export, how to verify, which data. Leaf module.

The public functions (``run``, ``verify``, ``export``) take these as plain keywords too; every
keyword names a field of exactly one of these records, so ``split_keywords`` can sort them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from onnxproof.specs import Severity


@dataclass(frozen=True, kw_only=True)
class ExportOptions:
    """Where the file goes and how it is made."""

    output: str | Path | None = None
    exporter: str = "auto"
    opset: int | None = None
    verbose: bool = False


@dataclass(frozen=True, kw_only=True)
class VerifyOptions:
    """How parity is judged: tolerances, seed, targets, localization, the failing threshold."""

    atol: float | None = None
    rtol: float | None = None
    tolerances: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    seed: int = 0
    fail_on: Severity | str = Severity.ERROR
    targets: Sequence[str] = ()
    localize: bool | None = None
    #: Folder to save every generated case into (one .npz per case, replayable with ``data=``).
    save_inputs: str | Path | None = None
    #: Runtimes to verify on, each against PyTorch; the first is the primary (data, localize).
    runtimes: Sequence[str] = ("ort-cpu",)
    #: Repro bundle: a folder (always written there); None: into ``<file>.repro`` when parity
    #: fails; False: never.
    repro: str | Path | bool | None = None


@dataclass(frozen=True, kw_only=True)
class DataOptions:
    """Representative data to verify on, and how to read it."""

    data: Any = None
    batch_size: int = 32
    max_samples: int | None = None
    task: str | None = None
    image_spec: str | None = None
    #: Tokens to decode greedily with ``task="text-generation-with-past"``.
    generation_steps: int = 8
    #: ``progress(samples_done_now, total)`` after each batch; total is None when unknown.
    progress: Callable[..., None] | None = None
    #: Where batches are compared: "local" (this process) or "ray" (``engines.ray``).
    engine: str = "local"
    #: Ray actors (default: the cluster's CPUs) and the cluster to join (default: a local Ray).
    workers: int | None = None
    ray_address: str | None = None


class RunKeywords(TypedDict, total=False):
    """The keywords ``run`` and ``verify`` accept besides the model and its inputs."""

    output: str | Path | None
    exporter: str
    opset: int | None
    verbose: bool
    atol: float | None
    rtol: float | None
    tolerances: Mapping[str, tuple[float, float]] | None
    seed: int
    fail_on: Severity | str
    targets: Sequence[str]
    localize: bool | None
    save_inputs: str | Path | None
    runtimes: Sequence[str]
    repro: str | Path | bool | None
    data: Any
    batch_size: int
    max_samples: int | None
    task: str | None
    image_spec: str | None
    generation_steps: int
    progress: Callable[..., None] | None
    engine: str
    workers: int | None
    ray_address: str | None


_RECORDS = (ExportOptions, VerifyOptions, DataOptions)


def split_keywords(
    keywords: Mapping[str, Any], allowed: Sequence[type] = _RECORDS
) -> tuple[ExportOptions, VerifyOptions, DataOptions]:
    """Sort plain keywords into the three option records; an unknown keyword is a TypeError."""
    by_record: dict[type, dict[str, Any]] = {cls: {} for cls in _RECORDS}
    owners = {f.name: cls for cls in allowed for f in dataclasses.fields(cls)}
    for name, value in keywords.items():
        if name not in owners:
            raise TypeError(f"unexpected keyword argument {name!r}")
        if name == "tolerances" and value is None:
            continue
        by_record[owners[name]][name] = value
    return (
        ExportOptions(**by_record[ExportOptions]),
        VerifyOptions(**by_record[VerifyOptions]),
        DataOptions(**by_record[DataOptions]),
    )


@dataclass(frozen=True, kw_only=True)
class BenchOptions:
    """What to time: runtimes, batch sizes, and how long."""

    runtimes: Sequence[str] = ("ort-cpu",)
    batches: Sequence[int] = (1,)
    warmup: int = 3
    #: Fixed number of timed calls per batch; None: as many as fit in ``budget_s``.
    iterations: int | None = None
    budget_s: float = 1.0
    #: Threads for each runtime that takes a setting (torch, ONNX Runtime); None: their default.
    threads: int | None = None
    seed: int = 0
