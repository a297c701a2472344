"""How inputs reach ``forward``: by parameter name when the inputs are named after parameters,
else by position (in the order given).

Binding by name reads ``inspect.signature`` of the model's forward: an input called ``mask`` goes
to ``forward(x, *, mask=None)`` as ``mask=``, parameters with no input keep their defaults
(``forward(input_ids, past=None, attention_mask=None)`` given ``input_ids`` and
``attention_mask``). The exporters, the PyTorch reference and the ONNX graph inputs all follow
the one ``Binding`` computed here, so they cannot disagree. Leaf module: no torch import.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from onnxproof.errors import InputSpecError
from onnxproof.specs import TensorSpec

T = TypeVar("T")

_P = inspect.Parameter
#: Parameter kinds an input can be passed to by name.
_NAMED = (_P.POSITIONAL_OR_KEYWORD, _P.KEYWORD_ONLY)


@dataclass(frozen=True, kw_only=True)
class Binding:
    """Input names passed positionally (in this order), then those passed as keywords."""

    positional: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    #: Inputs that are no parameter of their own, passed into the forward's ``**kwargs``...
    extras: tuple[str, ...] = ()
    #: ... whose name this is.
    var_keyword: str | None = None
    #: True when the inputs were matched to parameters by name.
    by_name: bool = False
    #: The forward's ``*args`` name when the last positional inputs fill it ...
    var_positional: str | None = None
    #: ... and how many of ``positional`` are named parameters before it.
    named_positional: int | None = None

    @property
    def order(self) -> tuple[str, ...]:
        """The inputs in the order the forward takes them: the ONNX graph inputs' order."""
        return self.positional + self.keywords + self.extras

    def split(self, values: Mapping[str, T]) -> tuple[tuple[T, ...], dict[str, T]]:
        """``values`` (by input name) as the forward's positional and keyword arguments."""
        return (
            tuple(values[n] for n in self.positional),
            {n: values[n] for n in self.keywords + self.extras},
        )

    def call(self, function: Callable[..., Any], values: Mapping[str, Any]) -> Any:
        args, kwargs = self.split(values)
        return function(*args, **kwargs)


def signature_of(module: Any) -> inspect.Signature | None:
    """The signature of ``module.forward`` (bound: no ``self``), None when it has none to read
    (a TorchScript module, a C++ extension)."""
    forward = getattr(module, "forward", None)
    if forward is None:
        return None
    try:
        return inspect.signature(forward)
    except (TypeError, ValueError):
        return None


def positional_parameters(module: Any) -> list[str]:
    """Names of the parameters the forward takes by position, in order (to name example inputs)."""
    signature = signature_of(module)
    if signature is None:
        return []
    names = []
    for parameter in signature.parameters.values():
        if parameter.kind not in (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD):
            break
        names.append(parameter.name)
    return names


def bind_inputs(module: Any, names: Sequence[str]) -> Binding:
    """How inputs called ``names`` reach ``module.forward``.

    By name when any name is a parameter: then every name must be one (unless the forward takes
    ``*args``, which the others fill in order once every parameter before it is given, or
    ``**kwargs``) and every required parameter must be given, else InputSpecError. By position,
    as given, when no name is a parameter (inputs named ``input``, ``input_0``, ...).
    """
    signature = signature_of(module)
    if signature is None:
        return Binding(positional=tuple(names))
    parameters = list(signature.parameters.values())
    named = [p.name for p in parameters if p.kind in _NAMED]
    var_keyword = next((p.name for p in parameters if p.kind is _P.VAR_KEYWORD), None)
    takes_kwargs = var_keyword is not None
    if not any(n in named for n in names):
        takes_positional = any(p.kind not in (_P.KEYWORD_ONLY, _P.VAR_KEYWORD) for p in parameters)
        if takes_kwargs and not takes_positional and names:
            return Binding(
                positional=(), extras=tuple(names), var_keyword=var_keyword, by_name=True
            )
        return Binding(positional=tuple(names))
    where = f"{type(module).__name__}.forward({_shown(parameters)})"
    unknown = [n for n in names if n not in named]
    leading = [p.name for p in parameters if p.kind is _P.POSITIONAL_OR_KEYWORD]
    # forward(input_ids, attention_mask, *past): inputs that name no parameter fill *past in the
    # order given, once every parameter before it is given.
    into_varargs = bool(unknown) and any(p.kind is _P.VAR_POSITIONAL for p in parameters)
    into_varargs = into_varargs and all(n in names for n in leading)
    _check_names(where, parameters, names, unknown, takes_kwargs or into_varargs, takes_kwargs)
    given = set(names)
    positional: list[str] = []
    for parameter in parameters:
        if parameter.kind is not _P.POSITIONAL_OR_KEYWORD or parameter.name not in given:
            break
        positional.append(parameter.name)
    var_positional = None
    named_positional = None
    if into_varargs:
        var_positional = next(p.name for p in parameters if p.kind is _P.VAR_POSITIONAL)
        named_positional = len(positional)
        positional += unknown
        unknown = []
    keywords = [n for n in named if n in given and n not in positional]
    extras = unknown  # into **kwargs, in the order given
    return Binding(
        positional=tuple(positional),
        keywords=tuple(keywords),
        extras=tuple(extras),
        var_keyword=var_keyword if extras else None,
        by_name=True,
        var_positional=var_positional,
        named_positional=named_positional,
    )


def _check_names(
    where: str,
    parameters: list[inspect.Parameter],
    names: Sequence[str],
    unknown: list[str],
    unknown_allowed: bool,
    takes_kwargs: bool,
) -> None:
    """InputSpecError for a typo headed into ``**kwargs``, a name that is no parameter, or a
    required parameter without an input."""
    named = [p.name for p in parameters if p.kind in _NAMED]
    # A name one letter off a parameter is a typo, not an extra for **kwargs: passed there it
    # would be ignored on both sides and the parameter left at its default, unverified.
    typos = {n: difflib.get_close_matches(n, named, n=1, cutoff=0.8) for n in unknown}
    typos = {n: close for n, close in typos.items() if close}
    if typos and takes_kwargs:
        name, close = next(iter(typos.items()))
        raise InputSpecError(
            f"input {name!r} is not a parameter of {where}; did you mean {close[0]!r}?",
            hint=f"name the input {close[0]!r} (inputs bind to parameters by name)",
        )
    if unknown and not unknown_allowed:
        raise InputSpecError(
            f"input(s) {unknown} are not parameters of {where}",
            hint=f"name each input after a parameter ({', '.join(named)}), "
            "or name none after one to bind them by position",
        )
    missing = [
        p.name
        for p in parameters
        if p.default is _P.empty and p.kind in (*_NAMED, _P.POSITIONAL_ONLY) and p.name not in names
    ]
    if missing:
        raise InputSpecError(
            f"{where} requires {missing}, but no input is given for "
            f"{'it' if len(missing) == 1 else 'them'}",
            hint=f"add an input for each, e.g. --input '{missing[0]}:float32[batch,...]'",
        )


def in_binding_order(specs: tuple[TensorSpec, ...], binding: Binding) -> tuple[TensorSpec, ...]:
    """``specs`` in the order the forward takes them."""
    by_name = {s.name: s for s in specs}
    return tuple(by_name[n] for n in binding.order)


def _shown(parameters: list[inspect.Parameter]) -> str:
    """``x, *, mask=...``: the parameters without annotations or default values."""
    parts: list[str] = []
    starred = False  # keyword-only parameters follow a '*' (or '*args')
    for parameter in parameters:
        text = parameter.name
        if parameter.kind is _P.VAR_POSITIONAL:
            text, starred = f"*{text}", True
        elif parameter.kind is _P.VAR_KEYWORD:
            text = f"**{text}"
        elif parameter.kind is _P.KEYWORD_ONLY and not starred:
            parts.append("*")
            starred = True
        if parameter.kind in (*_NAMED, _P.POSITIONAL_ONLY) and parameter.default is not _P.empty:
            text += "=..."
        parts.append(text)
    return ", ".join(parts)
