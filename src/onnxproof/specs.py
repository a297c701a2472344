"""Input specs: ``name:dtype[d0,d1,...]{low..high}`` parsed into TensorSpec. Leaf module."""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass, field, replace

from onnxproof.errors import InputSpecError

GRAMMAR = (
    "name:dtype[d0,d1,...] with optional {low..high} or {role}, "
    "e.g. 'ids:int64[batch,seq=16]{0..999}' or 'attention_mask:int64[batch,seq]{mask}'"
)

#: Roles a spec can give instead of a range, each with the spellings accepted: a padding mask
#: with 1 marking a token (each row ones then zeros: transformers' ``attention_mask``), one with
#: the opposite polarity, 1 (True) marking padding (each row zeros then ones: PyTorch's
#: ``key_padding_mask``), and position ids (0, 1, 2, ... along the last dim).
ROLES: dict[str, str] = {"mask": "mask", "padding": "mask", "pad": "pad", "positions": "positions"}

#: The roles that are padding masks, whichever their polarity.
MASK_ROLES = ("mask", "pad")

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

#: Input names may hold '.', '-' and '/': ONNX value names are free strings and both exporters
#: pass them through unchanged. Dim names are narrower (see ``_check_dim_name``).
_NAME = r"[A-Za-z_][A-Za-z0-9_.\-/]*"
_SPEC_RE = re.compile(
    rf"^\s*(?P<name>{_NAME})\s*:\s*(?P<dtype>[a-z0-9]+)\s*\[(?P<dims>[^\]]*)\]\s*"
    r"(?:\{(?P<range>[^}]*)\})?\s*$"
)
_DIM_RE = re.compile(rf"^\s*(?:(?P<static>\d+)|(?P<name>{_NAME})(?:\s*=\s*(?P<size>-?\d+))?)\s*$")
#: Largest array one input may have (2**31 values): bigger is a typo, not a model to verify.
MAX_ELEMENTS = 2**31

#: Inclusive value limits of the integer dtypes (written out so this module needs no NumPy).
INT_LIMITS: dict[str, tuple[int, int]] = {
    "int64": (-(2**63), 2**63 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int8": (-(2**7), 2**7 - 1),
    "uint8": (0, 2**8 - 1),
}

#: Largest finite value of each float dtype.
FLOAT_MAX: dict[str, float] = {
    "float16": 65504.0,
    "bfloat16": 3.3895313892515355e38,
    "float32": 3.4028234663852886e38,
    "float64": 1.7976931348623157e308,
}

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
    #: False for a bare ``seq``: its size comes from another input's ``seq=16``, else the default.
    given: bool = field(default=True, compare=False)

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
    #: ``mask``, ``pad`` or ``positions`` (see ROLES): how data is generated instead of a range.
    role: str | None = None
    #: The role was inferred from the input's name, not written in the spec.
    role_inferred: bool = field(default=False, compare=False)

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
            if self.is_integer:  # int64's extremes round past their limits as floats
                smallest, largest = INT_LIMITS[self.dtype]
                text += f"{{{max(int(low), smallest)}..{min(int(high), largest)}}}"
            else:
                text += f"{{{_fmt(low)}..{_fmt(high)}}}"
        elif self.role is not None:
            text += f"{{{self.role}}}"
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
    dtype = DTYPES[dtype_word]
    dims_text = match["dims"].strip()
    dims = tuple(_parse_dim(part, text) for part in (dims_text.split(",") if dims_text else []))
    value_range, role = None, None
    if match["range"] is not None and match["range"].strip() in ROLES:
        role = _parse_role(match["range"].strip(), dtype, dims, text)
    elif match["range"] is not None:
        value_range = _parse_range(match["range"], dtype, text)
    spec = TensorSpec(
        name=match["name"], dtype=dtype, dims=dims, value_range=value_range, role=role
    )
    check_elements(spec, spec.example_shape)
    return spec


def _parse_dim(part: str, text: str) -> Dim:
    dmatch = _DIM_RE.match(part)
    if dmatch is None:
        if part.strip().startswith("-"):
            raise InputSpecError(
                f"input spec {text!r}: dim {part.strip()!r} is negative",
                hint="sizes are 0 or more; write a dim of unknown size as a name (batch, seq=16)",
            )
        raise InputSpecError(
            f"input spec {text!r}: dim {part.strip()!r} is neither an integer nor a name",
            hint="write a static dim as 10 and a dynamic one as batch or seq=16",
        )
    if dmatch["static"] is not None:
        return Dim(size=int(dmatch["static"]))
    name = dmatch["name"]
    if not name.isidentifier():
        # torch.export.Dim asserts this; a dim it rejects would make the dynamo exporter fail
        # and silently leave the export to the TorchScript fallback.
        raise InputSpecError(
            f"input spec {text!r}: dim name {name!r} is not a Python identifier",
            hint="dim names are letters, digits and '_' (not starting with a digit), "
            f"e.g. {re.sub(r'[^A-Za-z0-9_]', '_', name)!r}",
        )
    size = int(dmatch["size"]) if dmatch["size"] else DEFAULT_DYNAMIC_SIZE
    if dmatch["size"] is None:
        return Dim(size=size, name=name, given=False)
    if size < 2:
        raise InputSpecError(
            f"input spec {text!r}: example size {size} for dim {name!r}",
            hint="dynamic dims need an example size of at least 2 (exporters bake in 0 and 1)",
        )
    return Dim(size=size, name=name)


def _parse_role(word: str, dtype: str, dims: tuple[Dim, ...], text: str) -> str:
    role = ROLES[word]
    if not dims:
        raise InputSpecError(
            f"input spec {text!r}: a {{{word}}} input needs at least one dim",
            hint="a padding mask or position ids run along the last dim, e.g. [batch,seq]",
        )
    if role == "positions" and not dtype.startswith(("int", "uint")):
        raise InputSpecError(
            f"input spec {text!r}: position ids are integers, not {dtype}",
            hint="use int64 (or int32) for a {positions} input",
        )
    return role


def _parse_range(range_text: str, dtype: str, text: str) -> tuple[float, float]:
    """Bounds that the dtype can hold, checked exactly (Decimal) before they become floats."""
    from decimal import Decimal  # only specs with a range pay for it

    if re.search(r"inf|nan", range_text, re.IGNORECASE):
        raise InputSpecError(
            f"input spec {text!r}: value range {{{range_text}}} is not finite",
            hint="give finite bounds, for example {-1..1}",
        )
    rmatch = _RANGE_RE.match(range_text)
    if rmatch is None:
        raise InputSpecError(
            f"input spec {text!r}: value range {{{range_text}}} is not low..high",
            hint="for example {0..999} for token ids or {-1..1} for floats",
        )
    low, high = Decimal(rmatch["low"]), Decimal(rmatch["high"])
    if low > high:
        raise InputSpecError(
            f"input spec {text!r}: value range low {float(low)} is above high {float(high)}",
            hint="write the smaller bound first",
        )
    if dtype == "bool":
        raise InputSpecError(
            f"input spec {text!r}: a bool input takes no value range",
            hint="drop the {low..high}; bool inputs are drawn as True or False",
        )
    if dtype.startswith(("int", "uint")):
        smallest, largest = INT_LIMITS[dtype]
        if low != low.to_integral_value() or high != high.to_integral_value():
            raise InputSpecError(
                f"input spec {text!r}: value range {{{range_text}}} has a fractional bound, "
                f"but {dtype} holds whole numbers",
                hint="give whole-number bounds",
            )
        if low < smallest or high > largest:
            # NumPy would wrap such values around silently (300 as int8 is 44).
            raise InputSpecError(
                f"input spec {text!r}: value range {{{range_text}}} does not fit {dtype}, "
                f"which holds {smallest}..{largest}",
                hint=f"narrow the range to {smallest}..{largest} or use a wider dtype",
            )
        return float(low), float(high)
    largest_float = FLOAT_MAX[dtype]
    if max(abs(low), abs(high)) > Decimal(largest_float):
        raise InputSpecError(
            f"input spec {text!r}: value range {{{range_text}}} does not fit {dtype}, whose "
            f"largest finite value is {largest_float:g}",
            hint="narrow the range; values past it would become inf",
        )
    if not math.isfinite(float(high) - float(low)):
        raise InputSpecError(
            f"input spec {text!r}: value range {{{range_text}}} is wider than a float64 can "
            "span, so values cannot be drawn from it",
            hint="narrow the range",
        )
    return float(low), float(high)


def check_elements(spec: TensorSpec, shape: tuple[int, ...]) -> None:
    """Refuse an array of more than MAX_ELEMENTS values before anything tries to allocate it."""
    count = math.prod(shape)
    if count > MAX_ELEMENTS:
        raise InputSpecError(
            f"input {spec.name!r} would have shape {list(shape)}: {count:,} values, more than "
            f"the {MAX_ELEMENTS:,} onnxproof accepts for one input",
            hint="use smaller static dims or example sizes; verification needs only small inputs",
        )


def parse_input_specs(texts: list[str] | tuple[str, ...]) -> tuple[TensorSpec, ...]:
    """Parse several specs; names must be unique and a named dim must keep one example size.

    A size given once (``seq=16``) holds for every input that names the dim; roles are inferred
    from names where no range was given (see ``infer_roles``).
    """
    specs = tuple(parse_input_spec(t) for t in texts)
    names = [s.name for s in specs]
    for name in names:
        if names.count(name) > 1:
            raise InputSpecError(f"input name {name!r} is given twice", hint="names must be unique")
    check_dim_consistency(specs)
    specs = with_shared_sizes(specs)
    for spec in specs:
        check_elements(spec, spec.example_shape)
    return infer_roles(specs)


def with_shared_sizes(specs: tuple[TensorSpec, ...]) -> tuple[TensorSpec, ...]:
    """Each bare dim (``seq``) at the size another input gave it (``seq=16``)."""
    sizes = {d.name: d.size for s in specs for d in s.dims if d.name is not None and d.given}
    return tuple(
        replace(
            spec,
            dims=tuple(
                replace(d, size=sizes[d.name]) if d.name in sizes and not d.given else d
                for d in spec.dims
            ),
        )
        for spec in specs
    )


#: Inputs whose role is inferred from their name when their spec gives no range, first match
#: wins. The polarity follows where each name comes from: PyTorch's ``key_padding_mask``
#: (``nn.MultiheadAttention``; ``src_``/``tgt_``/``memory_key_padding_mask`` of
#: ``nn.Transformer*``) and fairseq's ``encoder_padding_mask`` / ``decoder_padding_mask``
#: (transformers' FSMT port passes them on as key_padding_mask) mark padding with True: ``pad``.
#: transformers' ``attention_mask``, and its bare ``padding_mask`` (EnCodec, Mimi, MusicGen:
#: "1 for tokens that are not masked"), mark tokens with 1: ``mask``.
_ROLE_NAMES = (
    (re.compile(r"^(attention_mask|padding_mask)$"), "mask"),
    (re.compile(r"^.+_padding_mask$"), "pad"),
    (re.compile(r"^position_ids$"), "positions"),
)


def infer_roles(specs: tuple[TensorSpec, ...]) -> tuple[TensorSpec, ...]:
    """Specs with no range and no role get the role their name implies (marked inferred)."""
    inferred = []
    for spec in specs:
        role = next((r for pattern, r in _ROLE_NAMES if pattern.match(spec.name)), None)
        if (
            role is None
            or spec.role is not None
            or spec.value_range is not None
            or not spec.dims
            or (role == "positions" and not spec.is_integer)
        ):
            inferred.append(spec)
        else:
            inferred.append(replace(spec, role=role, role_inferred=True))
    return tuple(inferred)


def check_dim_consistency(specs: tuple[TensorSpec, ...]) -> None:
    """A dynamic dim shared by name across inputs must have one example size."""
    seen: dict[str, int] = {}
    for spec in specs:
        for dim in spec.dims:
            if dim.name is None or not dim.given:
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
