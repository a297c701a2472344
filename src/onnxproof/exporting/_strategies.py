"""Export strategies as an ordered chain; each attempt returns a record instead of raising."""

from __future__ import annotations

import abc
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnx
import torch

from onnxproof.binding import Binding
from onnxproof.exporting._binding import dynamic_shapes_by_name, positional_forward
from onnxproof.exporting._naming import name_graph_io
from onnxproof.exporting._ranges import dim_ranges
from onnxproof.results import DimRange
from onnxproof.specs import TensorSpec


@dataclass(frozen=True, kw_only=True)
class ExportRequest:
    """Everything a strategy needs, the same for each."""

    module: torch.nn.Module
    #: The inputs passed by position, then by name, as ``binding`` says.
    args: tuple[Any, ...]
    specs: tuple[TensorSpec, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    binding: Binding | None = None
    output_names: tuple[str, ...]
    opset: int
    exported_program: Any = None


@dataclass(frozen=True, kw_only=True)
class AttemptOutcome:
    """A strategy's result: the file it wrote, or the exception it hit."""

    strategy: str
    path: Path | None
    error: BaseException | None
    seconds: float
    #: The range of each dynamic dim the file was made for, when the exporter says.
    dim_ranges: tuple[DimRange, ...] = ()


class InvalidFileError(Exception):
    """A strategy wrote a file that onnx cannot load or its checker rejects."""


class OpsetAboveRequestError(Exception):
    """A strategy wrote a valid file at a higher opset than asked for (it could not convert it
    down): under ``--exporter auto`` the next strategy gets its turn, and this file is kept only
    when none writes one."""


class ExportStrategy(abc.ABC):
    name: str

    def attempt(self, request: ExportRequest, destination: Path) -> AttemptOutcome:
        """Export, then check the file: an invalid file is a failed attempt, so the chain goes on."""
        start = time.perf_counter()
        try:
            ranges = self._export(request, destination) or ()
            _check_file(destination)
        except (Exception, SystemExit, KeyboardInterrupt) as exc:
            # SystemExit / KeyboardInterrupt here come from the model's code (a real Ctrl-C is
            # raised as _signals.Interrupted, which is neither): a failed attempt, not an exit.
            return AttemptOutcome(
                strategy=self.name, path=None, error=exc, seconds=time.perf_counter() - start
            )
        return AttemptOutcome(
            strategy=self.name,
            path=destination,
            error=None,
            seconds=time.perf_counter() - start,
            dim_ranges=ranges,
        )

    @abc.abstractmethod
    def _export(self, request: ExportRequest, destination: Path) -> tuple[DimRange, ...] | None:
        """Write the file; return the dynamic dims' ranges when the exporter knows them."""


def _check_file(path: Path) -> None:
    try:
        # By path, so a model with external data is checked too.
        onnx.checker.check_model(str(path), full_check=True)
    except Exception as exc:
        reason = str(exc).strip() or type(exc).__name__
        raise InvalidFileError(
            f"the written file is not valid ONNX (onnx.checker): {reason}"
        ) from exc


class DynamoStrategy(ExportStrategy):
    """``torch.onnx.export(..., dynamo=True)`` with ``dynamic_shapes`` built from the specs."""

    name = "dynamo"

    def _export(self, request: ExportRequest, destination: Path) -> tuple[DimRange, ...]:
        model: Any = request.exported_program or request.module
        dynamic_shapes = None if request.exported_program is not None else _dynamic_shapes(request)
        program = torch.onnx.export(
            model,
            request.args,
            kwargs=request.kwargs or None,
            dynamo=True,
            dynamic_shapes=dynamic_shapes,
            opset_version=request.opset,
            optimize=True,
        )
        if program is None:
            raise RuntimeError("the dynamo exporter returned no program")
        # Not torch's input_names/output_names: it renames without looking for clashes.
        name_graph_io(program.model, [s.name for s in request.specs], request.output_names)
        program.save(str(destination), external_data=False)
        return dim_ranges(program.exported_program, request.specs)


def _dynamic_shapes(request: ExportRequest) -> Any:
    if request.binding is not None and request.binding.by_name:
        return dynamic_shapes_by_name(request.specs, request.binding)
    dims: dict[str, Any] = {}
    shapes: list[dict[int, Any] | None] = []
    for spec in request.specs:
        axes = {
            axis: dims.setdefault(name, torch.export.Dim(name))
            for axis, name in spec.dynamic_dims.items()
        }
        shapes.append(axes or None)
    return tuple(shapes) if dims else None


class TorchScriptStrategy(ExportStrategy):
    """The TorchScript (tracing) exporter, ``dynamo=False`` with ``dynamic_axes``."""

    name = "torchscript"

    def _export(self, request: ExportRequest, destination: Path) -> None:
        dynamic_axes = {s.name: s.dynamic_dims for s in request.specs if s.dynamic_dims}
        binding = request.binding
        args = request.args
        if binding is not None and binding.by_name:
            args = tuple(request.args) + tuple(request.kwargs.values())
        with positional_forward(request.module, binding or Binding(positional=())):
            self._trace(request, destination, args, dynamic_axes)

    def _trace(
        self,
        request: ExportRequest,
        destination: Path,
        args: tuple[Any, ...],
        dynamic_axes: dict[str, dict[int, str]],
    ) -> None:
        torch.onnx.export(
            request.module,
            args,
            str(destination),
            dynamo=False,
            input_names=[s.name for s in request.specs],
            output_names=list(request.output_names),
            dynamic_axes=dynamic_axes or None,
            opset_version=request.opset,
            do_constant_folding=True,
        )


STRATEGIES: tuple[type[ExportStrategy], ...] = (DynamoStrategy, TorchScriptStrategy)
EXPORTER_CHOICES = ("auto", "dynamo", "torchscript")


def strategies_for(exporter: str) -> tuple[ExportStrategy, ...]:
    """The chain for ``--exporter``: auto is every strategy in order, otherwise just the one."""
    if exporter == "auto":
        return tuple(cls() for cls in STRATEGIES)
    return tuple(cls() for cls in STRATEGIES if cls.name == exporter)
