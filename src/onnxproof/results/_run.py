"""Records of a run: export attempts, parity, data, localization, steps, environment, report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from onnxproof.results._base import SCHEMA_VERSION, Status, StepState, _Record
from onnxproof.results._check import CheckReport, Finding, ModelInfo, TensorInfo

if TYPE_CHECKING:
    from onnxproof.results._generation import GenerationReport


@dataclass(frozen=True, kw_only=True)
class ExportAttempt(_Record):
    """One exporter strategy tried: whether it worked, how long it took, why it failed."""

    strategy: str
    ok: bool
    seconds: float
    error: str | None = None
    #: The whole cause, tracebacks and the exporter's boilerplate advice removed.
    detail: str | None = None
    #: The failure was a branch on tensor values the exporter refused, at ``location``.
    data_dependent: bool = False
    location: str | None = None


@dataclass(frozen=True, kw_only=True)
class ExportWarning(_Record):
    """A Python warning the exporter raised (a TracerWarning says what tracing froze)."""

    category: str
    message: str
    location: str


@dataclass(frozen=True, kw_only=True)
class DimRange(_Record):
    """The sizes of a dynamic dim the exported graph was made for, as the exporter derived them
    from the model's code (a branch on ``x.shape[1] > 16`` bounds it at 16); ``high`` None: no
    upper bound."""

    name: str
    low: int
    high: int | None
    source: str = "torch.export"


@dataclass(frozen=True, kw_only=True)
class ExportResult(_Record):
    """The written ONNX file and the record of how it was made (``onnx_path`` None: no exporter
    could export the model; ``attempts`` say why)."""

    onnx_path: str | None
    exporter: str | None
    attempts: tuple[ExportAttempt, ...]
    opset_requested: int
    opset_written: int | None
    external_data_file: str | None
    input_specs: tuple[str, ...]
    output_names: tuple[str, ...]
    training_modules: tuple[str, ...]
    findings: tuple[Finding, ...]
    log: tuple[str, ...]
    seconds: float
    #: Warnings of the attempt that wrote the file (the lint stage reads them).
    warnings: tuple[ExportWarning, ...] = ()
    #: Each dynamic dim's range in the exported program (dynamo exporter only).
    dim_ranges: tuple[DimRange, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ErrorHistogram(_Record):
    """Counts of elementwise ``|a - b|`` in fixed log-spaced bins (``verification/metrics.py``):
    ``counts[i]`` holds ``edges[i] <= d < edges[i + 1]``; exact zeros, values below the first
    edge and values at or above the last edge (infinities too) are counted apart."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]
    zeros: int = 0
    below: int = 0
    above: int = 0

    @property
    def total(self) -> int:
        return self.zeros + self.below + sum(self.counts) + self.above


@dataclass(frozen=True, kw_only=True)
class OutputParity(_Record):
    """Agreement of one output over all cases: worst figures and the verdict."""

    name: str
    dtype: str
    atol: float
    rtol: float
    max_abs_diff: float
    max_rel_diff: float
    mismatch_fraction: float
    min_passing_atol: float
    compared_elements: int
    passed: bool
    #: Cases on which this output was compared (cases that failed to run are not among them).
    cases_compared: int = 0
    #: Where the elementwise errors of those cases fall (None: nothing was compared).
    histogram: ErrorHistogram | None = None
    #: ||actual - reference|| / ||reference|| over the finite elements of every case compared.
    rel_l2_error: float | None = None
    #: Pairs NaN on both sides or the same infinity on both sides: they agree but prove
    #: nothing, and are not among the compared elements.
    nonfinite_pairs: int = 0
    #: Fraction (0-1) of the reference's elements that are NaN or infinite.
    reference_nonfinite_fraction: float = 0.0
    #: Nothing of this output was compared: the reference was NaN or infinite wherever it was
    #: produced. Never a pass.
    reference_all_nonfinite: bool = False
    #: RMS of the reference over the pairs finite on both sides: the output's own scale.
    reference_rms: float | None = None
    #: Relative L2 change of PyTorch's own output when its float inputs move by one ulp: how
    #: much of a small output is float noise (measured only for outputs at or below atol).
    reference_noise: float | None = None
    #: The scale is at or below atol and the relative L2 error says the output diverges.
    small_output_diverged: bool = False
    #: Cases not compared on this output because the reference was NaN in every element.
    cases_reference_nan: int = 0
    #: The first case small next to atol on its own whose relative L2 error diverges, with its
    #: figures, when the figures over every case did not show it (large cases hid it).
    small_case: str | None = None


@dataclass(frozen=True, kw_only=True)
class PaddedMismatch(_Record):
    """An output that differed from PyTorch only at positions a padding mask marks as padding:
    those elements were excused (values no user reads), every token position agreed."""

    output: str
    #: The padding-mask input whose [batch, seq] the output's leading dims follow.
    mask: str
    #: Elements out of tolerance, all at padded positions.
    elements: int
    max_abs_diff: float


@dataclass(frozen=True, kw_only=True)
class CaseResult(_Record):
    """One set of inputs: the dynamic-dim sizes, the draw, and whether every output agreed."""

    index: int
    sizes: dict[str, int]
    draw: str
    passed: bool
    error: str | None = None
    failed_outputs: tuple[str, ...] = ()
    #: PyTorch itself rejected these inputs: nothing to compare, the case does not count.
    skipped: bool = False
    #: Wall time of the runtime's call as onnxproof made it (a worker's round trip included).
    seconds: float | None = None
    #: Outputs that differed only at padded positions (excused, see ``PaddedMismatch``).
    padded_mismatches: tuple[PaddedMismatch, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ParityReport(_Record):
    """A runtime's outputs against the PyTorch reference, over every case."""

    runtime: str
    reference: str
    passed: bool
    atol: float
    rtol: float
    cases: tuple[CaseResult, ...]
    outputs: tuple[OutputParity, ...]
    seconds: float = 0.0
    #: False when the runtime could not judge at all (not installed, crashed, could not load).
    available: bool = True
    #: Why it could not judge, and how to fix that.
    unavailable_reason: str | None = None
    #: The runtime is there but rejected the file: a failure of the file, not of the runtime.
    load_error: str | None = None
    #: What the runtime really ran with (version, providers, precision, threads, browser).
    details: dict[str, str] = field(default_factory=dict)

    @property
    def compared_elements(self) -> int:
        return sum(o.compared_elements for o in self.outputs)

    @property
    def median_call_ms(self) -> float | None:
        """Median wall time of one call over the cases, as onnxproof called the runtime (a
        worker's round trip included; ``bench`` times inside the runtime)."""
        times = sorted(c.seconds for c in self.cases if c.seconds is not None)
        if not times:
            return None
        middle = len(times) // 2
        median = times[middle] if len(times) % 2 else (times[middle - 1] + times[middle]) / 2
        return median * 1e3


@dataclass(frozen=True, kw_only=True)
class WorstSample(_Record):
    """One sample's worst element: its global index, max abs diff and max relative diff."""

    index: int
    max_abs_diff: float
    max_rel_diff: float


@dataclass(frozen=True, kw_only=True)
class OutputDatasetMetrics(_Record):
    """How one output compares over a dataset (definitions in ``verification/stats.py``)."""

    name: str
    dtype: str
    atol: float
    rtol: float
    samples: int
    elements: int
    max_abs_diff: float
    mean_abs_diff: float
    p99_abs_diff: float
    max_rel_diff: float
    rel_l2_error: float
    cosine_similarity: float
    mismatch_fraction: float
    min_passing_atol: float
    passed: bool
    worst_samples: tuple[WorstSample, ...] = ()
    topk_agreement: dict[str, float] = field(default_factory=dict)
    #: Where the elementwise errors fall, in the bins of ``OutputParity.histogram``.
    histogram: ErrorHistogram | None = None
    #: Pairs NaN on both sides or the same infinity on both sides: they agree but prove
    #: nothing, and are not among the compared elements.
    nonfinite_pairs: int = 0
    #: Fraction (0-1) of the reference's elements that are NaN or infinite.
    reference_nonfinite_fraction: float = 0.0
    #: Nothing of this output was compared: the reference was NaN or infinite wherever it was
    #: produced. Never a pass.
    reference_all_nonfinite: bool = False
    #: RMS of the reference over the pairs finite on both sides: the output's own scale.
    reference_rms: float | None = None
    #: Relative L2 change of PyTorch's own output when its float inputs move by one ulp: how
    #: much of a small output is float noise (measured only for outputs at or below atol).
    reference_noise: float | None = None
    #: The scale is at or below atol and the relative L2 error says the output diverges.
    small_output_diverged: bool = False
    #: Samples not compared on this output because the reference was NaN in every element.
    samples_reference_nan: int = 0


@dataclass(frozen=True, kw_only=True)
class DatasetReport(_Record):
    """Parity on the user's representative data: dataset-wide figures per output."""

    source: str
    samples: int
    batches: int
    passed: bool
    task: str | None
    outputs: tuple[OutputDatasetMetrics, ...]
    errors: tuple[str, ...] = ()
    failed_batches: int = 0
    seconds: float = 0.0
    #: Where the batches were compared: "local" (this process) or "ray" (a Ray cluster).
    engine: str = "local"
    #: Ray workers (actors) that compared batches; None for the local engine.
    workers: int | None = None
    #: Samples the data holds, counted before the run; ``samples`` (those compared) must equal it.
    samples_expected: int | None = None
    #: The runtime the data ran on: the first one asked for that is installed here.
    runtime: str | None = None
    #: Outputs that differed only at padded positions, summed over the batches (excused).
    padded_mismatches: tuple[PaddedMismatch, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ModuleError(_Record):
    """One PyTorch module's output against its ONNX counterpart, for localization."""

    module: str
    module_type: str
    onnx_value: str | None
    max_abs_diff: float | None
    max_rel_diff: float | None
    diverged: bool | None  # None: not compared (``reason`` says why)
    #: The output the figures are for (a diverging one first, else the worst), e.g. 'output_1'.
    output: str | None = None
    #: How many of the module's outputs were paired with ONNX values and compared.
    outputs_compared: int = 0
    #: Why the module was not compared (no ONNX counterpart, outputs that cannot be paired).
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class Localization(_Record):
    """Where outputs part ways: the first module whose output diverges, and the trail after it."""

    case: str
    first_divergent_module: str | None
    module_type: str | None
    onnx_nodes: tuple[str, ...]
    error: float | None
    trail: tuple[ModuleError, ...]
    unmatched_modules: tuple[str, ...]
    #: Which output of the first divergent module diverges (its name in the module's output).
    divergent_output: str | None = None
    #: Where the divergence is: the forward of the first divergent module, whose children (all
    #: compared before it) agree: 'Block.forward at models.py:140'. '<root>' is the model itself.
    divergent_code: str | None = None
    #: The ONNX nodes of that module's own code (not inside any child).
    code_nodes: tuple[str, ...] = ()
    #: Modules inside the first divergent one that could not be compared: it may lie there too.
    uncompared_inside: tuple[str, ...] = ()
    #: Set when the case had failed but no module diverged when it was run again for this: what
    #: was seen instead (PyTorch computing differently with its module hooks on, PyTorch raising
    #: with them on, or the file with its values exposed agreeing). No module is then blamed, and
    #: none is cleared either.
    unreproduced: str | None = None


@dataclass(frozen=True, kw_only=True)
class Step(_Record):
    """One step of a run and how it ended; ``detail`` says why when it did not pass."""

    name: str
    state: StepState
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class Environment(_Record):
    """Where the run happened: versions, machine, threads and the command line."""

    onnxproof: str
    python: str
    platform: str
    cpu: str
    cpu_flags: tuple[str, ...]
    cpu_count: int | None
    threads: dict[str, str]
    packages: dict[str, str | None]
    command: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class RunReport(_Record):
    """Everything one ``run`` or ``verify`` found, nested by step, and the verdict over it all."""

    status: Status
    model: str
    steps: tuple[Step, ...] = ()
    export: ExportResult | None = None
    opset_reason: str | None = None
    check: CheckReport | None = None
    #: Parity on the primary runtime (the first asked for).
    verification: ParityReport | None = None
    #: Parity on every runtime asked for, the primary first.
    runtimes: tuple[ParityReport, ...] = ()
    data: DatasetReport | None = None
    localization: Localization | None = None
    #: Folder of the repro bundle written for this run (failing inputs, outputs, a script).
    repro_bundle: str | None = None
    #: Greedy decoding with the key/value cache (``task="text-generation-with-past"``).
    generation: GenerationReport | None = None
    findings: tuple[Finding, ...] = ()
    environment: Environment | None = None
    timings: dict[str, float] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        # Schema order: version and verdict first, the long export log last.
        head = {k: data.pop(k) for k in ("schema_version", "status")}
        return {**head, **data}

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)

    # Views over the nested records, for readers of the flat fields of earlier versions.
    @property
    def onnx_path(self) -> str | None:
        if self.export is not None:
            return self.export.onnx_path
        return self.check.path if self.check is not None else None

    @property
    def exporter(self) -> str | None:
        if self.export is not None:
            return self.export.exporter
        return self._info.metadata.get("onnxproof.exporter") if self._info else None

    @property
    def export_attempts(self) -> tuple[ExportAttempt, ...]:
        return self.export.attempts if self.export is not None else ()

    @property
    def opset(self) -> int | None:
        return self._info.opset_imports.get("ai.onnx") if self._info else None

    @property
    def opset_requested(self) -> int | None:
        return self.export.opset_requested if self.export is not None else None

    @property
    def inputs(self) -> tuple[TensorInfo, ...]:
        return self._info.inputs if self._info else ()

    @property
    def outputs(self) -> tuple[TensorInfo, ...]:
        return self._info.outputs if self._info else ()

    @property
    def external_data_file(self) -> str | None:
        return self.export.external_data_file if self.export is not None else None

    @property
    def log(self) -> tuple[str, ...]:
        return self.export.log if self.export is not None else ()

    @property
    def _info(self) -> ModelInfo | None:
        return self.check.info if self.check is not None else None
