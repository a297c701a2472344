"""Tolerance policy: defaults per dtype and user overrides. The only place thresholds live.

Defaults, and why:
- float32: atol 1e-4, rtol 1e-3. Kernels differ in summation order and fused multiply-adds; over
  inputs up to |10| the absolute error of a float32 dot product of a few hundred terms reaches
  ~1e-5, and outputs near zero need that headroom. The tutorial's rtol 1e-3 is kept.
- float16: atol 1e-2, rtol 1e-2 (10 mantissa bits: one ulp is ~1e-3 relative, and errors add up).
- bfloat16: atol 1e-2, rtol 4e-2 (7 mantissa bits: one ulp is ~8e-3 relative).
- float64: atol 1e-7, rtol 1e-6.
- integers and bool: exact.

Outputs smaller than their atol: when an output's own scale (the RMS of the reference) is at or
below atol, ``|a - b| <= atol + rtol * |b|`` holds for any error of the output's size, so every
element could be 50% off and pass. Such an output is also judged scale-free: it fails when its
relative L2 error ``||a - b|| / ||b||`` exceeds ``SMALL_OUTPUT_REL_L2``. 0.1 is far above what a
faithful kernel gives (float32 ~1e-7, float16 ~1e-3, bfloat16 ~1e-2) and far below what a wrong
one does (a 1.5x error is 0.5, a sign flip 2). An output that is float noise by design (a
difference of nearly equal terms, exactly 0 in exact arithmetic) would fail it on noise alone, so
the threshold rises to ``NOISE_MARGIN`` times the output's own noise: the relative L2 change of
PyTorch's output when its float inputs move by one ulp (``noise.py``), ~1e-7 for a Linear with
tiny weights, ~1 for a sum of LayerNorm outputs. An output's own ``--tol`` turns the check off
for it, since the user then said what agreement means there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from onnxproof.errors import UsageError

DEFAULTS: dict[str, tuple[float, float]] = {
    "float32": (1e-4, 1e-3),
    "float16": (1e-2, 1e-2),
    "bfloat16": (1e-2, 4e-2),
    "float64": (1e-7, 1e-6),
}
EXACT = (0.0, 0.0)
#: Relative L2 error above which an output whose scale is at or below its atol fails.
SMALL_OUTPUT_REL_L2 = 0.1
#: ... or above this many times the output's own noise (its change under a one-ulp nudge).
NOISE_MARGIN = 10.0
#: Fraction of an output's reference elements NaN or infinite from which a warning says so.
NONFINITE_WARNING_FRACTION = 0.01


def check_tolerance(atol: float | None, rtol: float | None, where: str) -> None:
    """Raise UsageError unless each given tolerance is a finite number >= 0.

    A negative tolerance fails every comparison and NaN or inf makes every comparison meaningless
    (NaN fails all, inf passes all), so neither is a tolerance. ``where`` names the option.
    """
    for label, value in (("atol", atol), ("rtol", rtol)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UsageError(
                f"{where}: {label} {value!r} is not a number", hint="give a number such as 1e-4"
            )
        if not math.isfinite(value) or value < 0:
            raise UsageError(
                f"{where}: {label} {value} is not a finite number >= 0",
                hint="tolerances are finite and non-negative, e.g. --atol 1e-4 --rtol 1e-3",
            )


@dataclass(frozen=True, kw_only=True)
class TolerancePolicy:
    """Per-dtype defaults, a global override for floats, and per-output overrides."""

    atol: float | None = None
    rtol: float | None = None
    per_output: dict[str, tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_tolerance(self.atol, self.rtol, "tolerance")
        for name, pair in self.per_output.items():
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise UsageError(
                    f"tolerance for output {name!r} is {pair!r}, not (atol, rtol)",
                    hint="give it as NAME=ATOL,RTOL",
                )
            check_tolerance(pair[0], pair[1], f"tolerance for output {name!r}")

    def for_output(self, name: str, dtype: str) -> tuple[float, float]:
        if name in self.per_output:
            return self.per_output[name]
        if dtype not in DEFAULTS:
            return EXACT
        atol, rtol = DEFAULTS[dtype]
        return (
            self.atol if self.atol is not None else atol,
            self.rtol if self.rtol is not None else rtol,
        )

    def judges_scale(self, name: str, dtype: str) -> bool:
        """Whether an output small next to its atol is also judged by relative L2 error: float
        outputs whose atol is the default. A given ``--atol`` (or a tolerance of its own) states
        the absolute error the user accepts: the elementwise test is then theirs alone."""
        return dtype in DEFAULTS and name not in self.per_output and self.atol is None

    def headline(self) -> tuple[float, float]:
        """The float32 tolerance, shown as the run's tolerance in the report's summary."""
        return self.for_output("", "float32")


def small_output_diverged(
    reference_rms: float | None,
    rel_l2_error: float | None,
    atol: float,
    reference_noise: float | None = None,
) -> bool:
    """An output at or below its atol in scale whose relative L2 error says it diverges: above
    ``SMALL_OUTPUT_REL_L2`` and above ``NOISE_MARGIN`` times its own noise. An all-zero reference
    (scale 0) has no scale to be relative to, and without a noise measure (no float input to
    nudge, or PyTorch refused the nudged inputs) float noise cannot be told from a divergence:
    the elementwise test holds alone."""
    if reference_rms is None or rel_l2_error is None or not reference_rms > 0:
        return False
    if reference_noise is None:
        return False
    threshold = max(SMALL_OUTPUT_REL_L2, NOISE_MARGIN * (reference_noise or 0.0))
    return reference_rms <= atol and rel_l2_error > threshold
