"""One run's state: the loaded model, its specs, the options, and the records each step adds."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from onnxproof import _signals
from onnxproof.errors import UsageError
from onnxproof.options import DataOptions, ExportOptions, VerifyOptions
from onnxproof.results import (
    CheckReport,
    ExportResult,
    Finding,
    Localization,
    ParityReport,
    Step,
    StepState,
)
from onnxproof.specs import TensorSpec, parse_input_specs

if TYPE_CHECKING:
    from onnxproof.verification.tolerance import TolerancePolicy


@dataclass
class RunContext:
    """What every step reads and adds to. Steps append; the verdict is computed once, last."""

    loaded: Any  # loading.LoadedModel (torch stays out of this module's imports)
    specs: tuple[TensorSpec, ...]
    export_options: ExportOptions = field(default_factory=ExportOptions)
    verify_options: VerifyOptions = field(default_factory=VerifyOptions)
    data_options: DataOptions = field(default_factory=DataOptions)
    timings: dict[str, float] = field(default_factory=dict)
    steps: dict[str, Step] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    export: ExportResult | None = None
    opset_reason: str | None = None
    onnx_path: str | None = None
    check: CheckReport | None = None
    parity: ParityReport | None = None
    #: Parity on every runtime asked for, the primary (``parity``) first.
    runtime_reports: list[ParityReport] = field(default_factory=list)
    dataset: Any = None  # verification.dataset.DatasetOutcome
    data_batches: Any = None  # (description, total, batch iterator) opened before export
    localization: Localization | None = None
    #: The first divergent module's recorded values, for the repro bundle.
    module_case: Any = None
    repro_bundle: str | None = None
    generation: Any = None  # results.GenerationReport

    @property
    def policy(self) -> TolerancePolicy:
        from onnxproof.verification.tolerance import TolerancePolicy

        v = self.verify_options
        return TolerancePolicy(atol=v.atol, rtol=v.rtol, per_output=dict(v.tolerances))

    @property
    def case_sizes(self) -> list[dict[str, int]]:
        """The sizes of the generated cases: the usual ones, then each dim just past the upper
        bound the exporter gave it (the file was made for sizes up to there only)."""
        from onnxproof.data.synthetic import case_sizes

        ranges = self.export.dim_ranges if self.export is not None else ()
        return case_sizes(self.specs, {r.name: r.high for r in ranges if r.high is not None})

    def record(self, name: str, state: StepState, detail: str = "") -> None:
        self.steps[name] = Step(name=name, state=state, detail=detail)

    @contextlib.contextmanager
    def timed(self, name: str, doing: str) -> Iterator[None]:
        _signals.set_activity(doing)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - start, 3)


def prepare(
    model: Any,
    example_inputs: Sequence[Any] | Mapping[str, Any] | None,
    inputs: Sequence[str] | Mapping[str, str] | None,
    weights: str | Path | None,
) -> tuple[Any, tuple[TensorSpec, ...]]:
    """The loaded model and its input specs: given, declared by the class, or from examples.

    Inputs named after the forward's parameters bind by name and take the forward's order
    (``binding.bind_inputs``); an input named after no parameter, or a required parameter
    without an input, is an InputSpecError here, before any export.
    """
    # loading first: without torch it raises a ModelLoadError saying how to install it.
    from onnxproof.loading import LoadedModel, load_model, load_weights  # isort: skip
    from onnxproof.binding import bind_inputs, in_binding_order, positional_parameters
    from onnxproof.exporting._specs import specs_from_example
    from onnxproof.loading_hf import (
        inferred_specs,
        is_transformers_model,
        with_config_ranges,
        without_cache,
    )

    _signals.set_activity("loading the model")
    if model is None or isinstance(model, str | Path):
        loaded = load_model(None if model is None else str(model), weights=weights)
    else:
        loaded = LoadedModel(module=model, reference=type(model).__name__)
        if weights is not None:
            load_weights(model, Path(weights))
    if is_transformers_model(loaded.module):
        without_cache(loaded.module)  # however the specs are given: a cache is not a tensor
    if inputs:
        specs = parse_input_specs(spec_texts(inputs))
    elif isinstance(example_inputs, Mapping):
        specs = specs_from_example(tuple(example_inputs.values()), names=list(example_inputs))
    elif example_inputs is not None:
        specs = specs_from_example(
            tuple(example_inputs), names=positional_parameters(loaded.module)
        )
    elif loaded.declared_specs:
        specs = parse_input_specs(loaded.declared_specs)
    elif loaded.example_args is not None:
        specs = specs_from_example(loaded.example_args, program=loaded.exported_program)
    elif is_transformers_model(loaded.module):
        specs = parse_input_specs(inferred_specs(loaded.module))
    else:
        raise UsageError(
            f"no input specs for {loaded.reference}",
            hint="give --input 'name:dtype[batch,...]' for each forward argument, or set "
            "onnxproof_inputs on the model class",
        )
    if is_transformers_model(loaded.module):
        specs = with_config_ranges(loaded.module, specs)
    if loaded.exported_program is None:
        binding = bind_inputs(loaded.module, [s.name for s in specs])
        specs = in_binding_order(specs, binding)
    return loaded, specs


def spec_texts(inputs: Sequence[str] | Mapping[str, str]) -> tuple[str, ...]:
    """``--input`` texts; a mapping gives each spec under its parameter's name
    (``{"mask": "bool[batch,seq]"}``, or the full ``"mask:bool[batch,seq]"``)."""
    if isinstance(inputs, str):
        return (inputs,)
    if not isinstance(inputs, Mapping):
        return tuple(inputs)
    texts = []
    for name, text in inputs.items():
        if not isinstance(text, str):
            raise UsageError(
                f"input {name!r}: the spec is a {type(text).__name__}, not a string",
                hint="give specs such as {'mask': 'bool[batch,seq]'}",
            )
        texts.append(text if text.strip().startswith(f"{name}:") else f"{name}:{text}")
    return tuple(texts)
