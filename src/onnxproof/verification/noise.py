"""How much of a small output is float noise: PyTorch's own output when its float inputs move by
one ulp. An output that is a difference of nearly equal terms (exactly 0 in exact arithmetic)
changes completely; one that is small by scale (weights of 1e-5) barely moves. The relative L2
error a runtime may show on a small output is judged against this (``tolerance.py``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np

from onnxproof.runtimes import Session
from onnxproof.verification.metrics import is_exact_dtype
from onnxproof.verification.tolerance import TolerancePolicy

log = logging.getLogger(__name__)

#: Seed of the nudge's signs: the same case gets the same nudge in every run.
_SEED = 20240613


def small_outputs(expected: Mapping[str, np.ndarray], policy: TolerancePolicy) -> list[str]:
    """Float outputs judged by scale whose RMS over their finite elements is in (0, atol]."""
    names = []
    for name, ref in expected.items():
        ref = np.asarray(ref)
        dtype = str(ref.dtype)
        if is_exact_dtype(ref.dtype) or not policy.judges_scale(name, dtype) or ref.size == 0:
            continue
        values = ref.astype(np.float64)
        finite = values[np.isfinite(values)]
        atol = policy.for_output(name, dtype)[0]
        if finite.size and 0 < float(np.sqrt(np.mean(finite * finite))) <= atol:
            names.append(name)
    return names


def nudgeable(array: np.ndarray) -> bool:
    """A float input with a value that is not a whole number. Whole-number floats are masks,
    positions or counts: a model reads them with ``.bool()`` or ``.long()``, where one ulp flips
    a 0 to True or a 1 to 0, which is not float noise."""
    if array.dtype.kind != "f" or array.size == 0:
        return False
    values = array.astype(np.float64)
    finite = values[np.isfinite(values)]
    return bool(finite.size) and not bool(np.all(finite == np.round(finite)))


def nudged(feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every float input that holds fractions moved by one ulp, up or down at random (a uniform
    relative nudge could be undone by a scale-invariant model, such as a normalization of the
    inputs)."""
    rng = np.random.default_rng(_SEED)
    moved = {}
    for name, value in feeds.items():
        array = np.asarray(value)
        if not nudgeable(array):
            moved[name] = array
            continue
        sign = rng.choice(np.array([-1.0, 1.0], dtype=array.dtype), size=array.shape)
        moved[name] = (array + sign * np.spacing(array)).astype(array.dtype)
    return moved


def reference_noise(
    reference: Session,
    feeds: Mapping[str, np.ndarray],
    expected: Mapping[str, np.ndarray],
    names: list[str],
) -> dict[str, tuple[float, float]]:
    """For each of ``names``: (sum of squared change, sum of squared reference) over the elements
    finite in both runs. Empty when the reference refuses the nudged inputs."""
    if not names or not any(nudgeable(np.asarray(v)) for v in feeds.values()):
        return {}  # nothing to nudge: no measure
    try:
        again = reference.infer(nudged(feeds))
    except Exception as exc:  # no estimate: the output is judged without one
        log.info("the reference refused the nudged inputs: %s", exc)
        return {}
    sums = {}
    for name in names:
        if name not in again:
            continue
        b = np.asarray(expected[name], dtype=np.float64).ravel()
        c = np.asarray(again[name], dtype=np.float64).ravel()
        if b.shape != c.shape:
            continue
        finite = np.isfinite(b) & np.isfinite(c)
        b, c = b[finite], c[finite]
        sums[name] = (float(np.sum((c - b) ** 2)), float(np.sum(b * b)))
    return sums
