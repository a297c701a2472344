"""Input specs: ``name:dtype[d0,d1,...]{low..high}`` parsed into TensorSpec. Leaf module."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from onnxproof.errors import InputSpecError

GRAMMAR = "name:dtype[d0,d1,...] with optional {low..high}, e.g. 'ids:int64[batch,seq=16]{0..999}'"

#: dtype names accepted in specs, with their NumPy spelling.
DTYPES: dict[str, str] = {
    "float32": "float32",
    "float": "float32",
    "float16": "float16",
    "half": "float16",
    "bfloat16": "bfloat16",
    "float64": "float64",
    "double": "float64",
    "int64": "int64",
    "long": "int64",
    "int32": "int32",
    "int": "int32",
    "int16": "int16",
    "int8": "int8",
    "uint8": "uint8",
    "bool": "bool",
}

#: Default opset. The dynamo exporter in torch 2.13 translates at 18 and only down-converts a lower
#: request; 18 is what ONNX Runtime >= 1.14, TensorRT >= 8.6 and OpenVINO >= 2023 all accept.
DEFAULT_OPSET = 18

#: Example size used at export for a dynamic dim when the spec gives none. Not 0 or 1: the dynamo
#: exporter specializes those sizes and would bake them into the graph.
DEFAULT_DYNAMIC_SIZE = 2

_NAME = r"[A-Za-z_][A-Za-z0-9_.\-/]*"
_SPEC_RE = re.compile(
    rf"^\s*(?P<name>{_NAME})\s*:\s*(?P<dtype>[a-z0-9]+)\s*\[(?P<dims>[^\]]*)\]\s*"
    r"(?:\{(?P<range>[^}]*)\})?\s*$"
)
_DIM_RE = re.compile(rf"^\s*(?:(?P<static>\d+)|(?P<name>{_NAME})(?:\s*=\s*(?P<size>\d+))?)\s*$")
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE_RE = re.compile(rf"^\s*(?P<low>{_NUM})\s*\.\.\s*(?P<high>{_NUM})\s*$")


class Severity(str, enum.Enum):
    """How bad a finding is. Ordered: info < warning < error."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return ("info", "warning", "error").index(self.value)


@dataclass(frozen=True, kw_only=True)
class Dim:
    """One dimension: static (``name is None``) or dynamic with a name and an example size."""

    size: int
    name: str | None = None

    @property
    def dynamic(self) -> bool:
        return self.name is not None

    def __str__(self) -> str:
        if self.name is None:
            return str(self.size)
        return self.name if self.size == DEFAULT_DYNAMIC_SIZE else f"{self.name}={self.size}"


@dataclass(frozen=True, kw_only=True)
class TensorSpec:
    """A model input: name, dtype, dims, and the value range used to generate data for it."""

    name: str
    dtype: str
    dims: tuple[Dim, ...]
    value_range: tuple[float, float] | None = field(default=None)

    @property
    def is_integer(self) -> bool:
        return self.dtype.startswith(("int", "uint"))

    @property
    def dynamic_dims(self) -> dict[int, str]:
        return {i: d.name for i, d in enumerate(self.dims) if d.name is not None}

    def shape_for(self, sizes: dict[str, int]) -> tuple[int, ...]:
        """The concrete shape with each dynamic dim taken from ``sizes`` (default: its example)."""
        return tuple(sizes.get(d.name, d.size) if d.name else d.size for d in self.dims)

    @property
    def example_shape(self) -> tuple[int, ...]:
        return self.shape_for({})

    def __str__(self) -> str:
        text = f"{self.name}:{self.dtype}[{','.join(str(d) for d in self.dims)}]"
        if self.value_range is not None:
            low, high = self.value_range
            text += f"{{{_fmt(low)}..{_fmt(high)}}}"
        return text


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def parse_input_spec(text: str) -> TensorSpec:
    """Parse one ``--input`` spec. Raises InputSpecError naming the spec and what was expected."""
    match = _SPEC_RE.match(text)
    if match is None:
        raise InputSpecError(
            f"input spec {text!r} is not of the form {GRAMMAR}",
            hint="see 'Input specs' in the README",
        )
    dtype_word = match["dtype"]
    if dtype_word not in DTYPES:
        raise InputSpecError(
            f"input spec {text!r}: unknown dtype {dtype_word!r}",
            hint=f"use one of {', '.join(sorted(set(DTYPES.values())))}",
        )
    dims: list[Dim] = []
    dims_text = match["dims"].strip()
    for part in dims_text.split(",") if dims_text else []:
        dmatch = _DIM_RE.match(part)
        if dmatch is None:
            raise InputSpecError(
                f"input spec {text!r}: dim {part.strip()!r} is neither an integer nor a name",
                hint="write a static dim as 10 and a dynamic one as batch or seq=16",
            )
        if dmatch["static"] is not None:
            dims.append(Dim(size=int(dmatch["static"])))
        else:
            size = int(dmatch["size"]) if dmatch["size"] else DEFAULT_DYNAMIC_SIZE
            if size < 2:
                raise InputSpecError(
                    f"input spec {text!r}: example size {size} for dim {dmatch['name']!r}",
                    hint="dynamic dims need an example size of at least 2 (exporters bake in 0 and 1)",
                )
            dims.append(Dim(size=size, name=dmatch["name"]))
    value_range = None
    if match["range"] is not None:
        rmatch = _RANGE_RE.match(match["range"])
        if rmatch is None:
            raise InputSpecError(
                f"input spec {text!r}: value range {{{match['range']}}} is not low..high",
                hint="for example {0..999} for token ids or {-1..1} for floats",
            )
        low, high = float(rmatch["low"]), float(rmatch["high"])
        if low > high:
            raise InputSpecError(f"input spec {text!r}: value range low {low} is above high {high}")
        value_range = (low, high)
    return TensorSpec(
        name=match["name"], dtype=DTYPES[dtype_word], dims=tuple(dims), value_range=value_range
    )


def parse_input_specs(texts: list[str] | tuple[str, ...]) -> tuple[TensorSpec, ...]:
    """Parse several specs; names must be unique and a named dim must keep one example size."""
    specs = tuple(parse_input_spec(t) for t in texts)
    names = [s.name for s in specs]
    for name in names:
        if names.count(name) > 1:
            raise InputSpecError(f"input name {name!r} is given twice", hint="names must be unique")
    check_dim_consistency(specs)
    return specs


def check_dim_consistency(specs: tuple[TensorSpec, ...]) -> None:
    """A dynamic dim shared by name across inputs must have one example size."""
    seen: dict[str, int] = {}
    for spec in specs:
        for dim in spec.dims:
            if dim.name is None:
                continue
            if seen.setdefault(dim.name, dim.size) != dim.size:
                raise InputSpecError(
                    f"dim {dim.name!r} has example size {seen[dim.name]} in one input and "
                    f"{dim.size} in {spec.name!r}",
                    hint="a dim shared by name is one size; give it the same example size",
                )


def dynamic_dim_names(specs: tuple[TensorSpec, ...]) -> list[str]:
    """Names of dynamic dims in first-seen order."""
    names: list[str] = []
    for spec in specs:
        for dim in spec.dims:
            if dim.name is not None and dim.name not in names:
                names.append(dim.name)
    return names
