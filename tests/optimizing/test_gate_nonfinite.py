"""The optimize gate on an output PyTorch gave as NaN everywhere: nothing compared, no pass."""

from __future__ import annotations

import numpy as np

from onnxproof.optimizing._gate import judge, preset_of
from onnxproof.results import DatasetReport
from onnxproof.verification.stats import OutputStats


def _report(actual: np.ndarray, reference: np.ndarray) -> DatasetReport:
    stats = OutputStats("output", atol=1e-2, rtol=1e-2)
    stats.update(actual, reference, first_index=0)
    out = stats.result()
    return DatasetReport(
        source="test",
        samples=len(reference),
        batches=1,
        passed=out.passed,
        task=None,
        outputs=(out,),
    )


def test_nan_everywhere_fails_the_gate_while_finite_agreement_passes() -> None:
    nan = np.full((4, 3), np.nan, np.float32)
    checks = judge(_report(nan, nan.copy()), preset_of("int8"), None, {})
    assert [c.metric for c in checks] == ["compared"] and not checks[0].passed
    values = np.arange(12, dtype=np.float32).reshape(4, 3) + 1
    assert all(c.passed for c in judge(_report(values, values.copy()), preset_of("int8"), None, {}))
