"""Seeded synthetic inputs: several sizes of every dynamic dim, several draws at each size.

The same (seed, index) gives the same arrays everywhere, so every runtime sees identical feeds
and a failing case can be regenerated from its index alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from onnxproof.data.roles import role_array
from onnxproof.errors import UsageError
from onnxproof.specs import (
    INT_LIMITS,
    MAX_ELEMENTS,
    TensorSpec,
    check_elements,
    dynamic_dim_names,
)

#: Sizes every dynamic dim is tried at besides its example size: 1 (the size exporters like to
#: specialize), 2, and an odd size that matches no common example.
EXTRA_SIZES = (1, 2, 7)

#: Draw styles. A single standard-normal draw leaves a branch that tracing froze on one path
#: (``if x.sum() > 0``) unexercised; mostly-positive, mostly-negative and wide draws take both.
DRAWS = ("normal", "positive", "negative", "wide")

#: Integer inputs without a range in their spec get values in this inclusive range.
DEFAULT_INT_RANGE = (0, 9)

#: Seeds NumPy's SeedSequence takes: non-negative; kept to 32 bits so a seed reads back the same
#: in every tool that stores it as an unsigned 32-bit integer.
MAX_SEED = 2**32 - 1


@dataclass(frozen=True, kw_only=True)
class Case:
    """One verification case: the feeds, and how they were made."""

    index: int
    sizes: dict[str, int]
    draw: str
    feeds: dict[str, np.ndarray]


#: With more dynamic dims than this, each is no longer varied on its own (the count grows).
MAX_DIMS_ALONE = 3


def case_sizes(
    specs: tuple[TensorSpec, ...], upper_bounds: Mapping[str, int] | None = None
) -> list[dict[str, int]]:
    """Size assignments: the example sizes first; with several dynamic dims, each dim alone at
    every extra size (batch=7 with seq at its example), then all of them together; last, each
    dim of ``upper_bounds`` alone at the size just past its bound.

    Varying one dim at a time is what lets a failure be pinned on that dim: when they only ever
    change together, a size baked into one cannot be told from a size baked into another. The
    sizes past a bound come last so every other case keeps its index (and its arrays).
    """
    names = dynamic_dim_names(specs)
    example = {d.name: d.size for s in specs for d in s.dims if d.name is not None}
    result = [example]
    if 1 < len(names) <= MAX_DIMS_ALONE:
        for name in names:
            for size in EXTRA_SIZES:
                alone = {**example, name: size}
                if alone not in result:
                    result.append(alone)
    for size in EXTRA_SIZES:
        assignment = dict.fromkeys(names, size)
        if assignment not in result:
            result.append(assignment)
    for name, bound in (upper_bounds or {}).items():
        past = {**example, name: bound + 1}
        if name in names and past not in result and _fits(specs, past):
            result.append(past)
    return result


def _fits(specs: tuple[TensorSpec, ...], sizes: dict[str, int]) -> bool:
    # A bound far past any size worth generating is reported, not tried.
    return all(math.prod(s.shape_for(sizes)) <= MAX_ELEMENTS for s in specs)


def synthetic_cases(
    specs: tuple[TensorSpec, ...],
    *,
    seed: int = 0,
    draws: tuple[str, ...] = DRAWS,
    sizes: list[dict[str, int]] | None = None,
) -> Iterator[Case]:
    """Every (sizes, draw) combination, in a stable order, each seeded by its index.

    The seed and every case's shape are checked here, eagerly, so a bad seed or a huge shape is
    an error at the call and not at the first case drawn.
    """
    check_seed(seed)
    assignments = sizes if sizes is not None else case_sizes(specs)
    for assignment in assignments:
        for spec in specs:
            check_elements(spec, spec.shape_for(assignment))
    return _cases(specs, seed, draws, assignments)


def _cases(
    specs: tuple[TensorSpec, ...],
    seed: int,
    draws: tuple[str, ...],
    assignments: list[dict[str, int]],
) -> Iterator[Case]:
    index = 0
    for assignment in assignments:
        for draw in draws:
            rng = np.random.default_rng([seed, index])
            feeds = {s.name: _draw_array(s, s.shape_for(assignment), draw, rng) for s in specs}
            yield Case(index=index, sizes=dict(assignment), draw=draw, feeds=feeds)
            index += 1


def check_seed(seed: int) -> None:
    """Raise UsageError unless ``seed`` is an integer in 0..MAX_SEED."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise UsageError(f"seed {seed!r} is not an integer", hint=f"use 0..{MAX_SEED}")
    if not 0 <= seed <= MAX_SEED:
        raise UsageError(
            f"seed {seed} is out of range: seeds are 0..{MAX_SEED}",
            hint="pass --seed 0 or any seed in that range",
        )


def _draw_array(
    spec: TensorSpec, shape: tuple[int, ...], draw: str, rng: np.random.Generator
) -> np.ndarray:
    if spec.role is not None:
        dtype = np.dtype(spec.dtype) if spec.dtype != "bfloat16" else numpy_dtype(spec.dtype)
        return role_array(spec, shape, dtype, rng)
    if spec.dtype == "bool":
        # a comparison on a rank-0 array gives a NumPy scalar; keep it an array of shape ()
        return np.asarray(rng.random(shape) < 0.5)
    if spec.is_integer:
        low, high = spec.value_range or DEFAULT_INT_RANGE
        # the float bounds of int64's extremes round past them; the spec checked the exact ones
        smallest, largest = INT_LIMITS[spec.dtype]
        low_int, high_int = max(int(low), smallest), min(int(high), largest)
        values = rng.integers(low_int, high_int, size=shape, endpoint=True)
        return np.asarray(values).astype(spec.dtype)  # in range: the spec checked the bounds
    # arithmetic on a rank-0 array gives a NumPy scalar: np.asarray keeps it an array
    return np.asarray(_float_draw(spec, shape, draw, rng)).astype(numpy_dtype(spec.dtype))


def _float_draw(
    spec: TensorSpec, shape: tuple[int, ...], draw: str, rng: np.random.Generator
) -> np.ndarray:
    if spec.value_range is not None:
        low, high = spec.value_range
        mid = (low + high) / 2
        bounds = {"positive": (mid, high), "negative": (low, mid)}.get(draw, (low, high))
        return rng.uniform(bounds[0], bounds[1], size=shape)
    if draw == "positive":
        return np.abs(rng.normal(1.0, 1.0, size=shape)) + 0.5
    if draw == "negative":
        return -np.abs(rng.normal(1.0, 1.0, size=shape)) - 0.5
    if draw == "wide":
        return rng.uniform(-10.0, 10.0, size=shape)
    return rng.standard_normal(size=shape)


def numpy_dtype(dtype: str) -> np.dtype:
    """The NumPy dtype of a dtype name, bfloat16 (ml_dtypes' type) included."""
    if dtype == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(dtype)
