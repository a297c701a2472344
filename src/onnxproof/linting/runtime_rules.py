"""Rules that read what a runtime reported about how it ran (``Session.details()``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from onnxproof.linting._base import make_finding
from onnxproof.results import Finding

#: Precisions that are float32 or better; anything else computes with fewer mantissa bits.
_FULL_PRECISION = {"f32", "f64", "float32", "float64"}


def precision_findings(runtime: str, details: Mapping[str, str]) -> tuple[Finding, ...]:
    """reduced-precision when the runtime says it computed below float32.

    Reads ``details["inference_precision"]`` (as the OpenVINO sessions report it) and, where
    the runtime knows its own fix, ``details["precision_fix"]`` for the hint.
    """
    precision = details.get("inference_precision")
    if not precision or precision.lower() in _FULL_PRECISION:
        return ()
    chosen = " (its default on this CPU)" if details.get("config") == "defaults" else ""
    finding = make_finding(
        "reduced-precision",
        f"{runtime} computed in {precision}{chosen}, not float32: expect differences from "
        "PyTorch of about 1e-3",
    )
    fix = details.get("precision_fix")
    return (replace(finding, hint=fix) if fix else finding,)
