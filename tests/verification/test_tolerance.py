from __future__ import annotations

import pytest

from onnxproof.errors import OnnxproofError, UsageError
from onnxproof.verification.tolerance import TolerancePolicy, check_tolerance


def test_defaults_per_dtype() -> None:
    policy = TolerancePolicy()
    assert policy.for_output("y", "float32") == (1e-4, 1e-3)
    assert policy.for_output("y", "float16") == (1e-2, 1e-2)
    assert policy.for_output("y", "int64") == (0.0, 0.0)
    assert policy.for_output("y", "bool") == (0.0, 0.0)


def test_overrides() -> None:
    policy = TolerancePolicy(atol=0.5, per_output={"logits": (1.0, 2.0)})
    assert policy.for_output("y", "float32") == (0.5, 1e-3)
    assert policy.for_output("logits", "float32") == (1.0, 2.0)
    assert policy.for_output("ids", "int64") == (0.0, 0.0)  # integers stay exact


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"atol": -1e-4}, "tolerance: atol -0.0001 is not a finite number >= 0"),
        ({"rtol": float("nan")}, "tolerance: rtol nan is not a finite number >= 0"),
        ({"atol": float("inf")}, "tolerance: atol inf is not a finite number >= 0"),
        ({"per_output": {"y": (0.1, -1.0)}}, "tolerance for output 'y': rtol -1.0"),
        ({"per_output": {"y": (float("nan"), 0.0)}}, "tolerance for output 'y': atol nan"),
    ],
)
def test_bad_tolerances_are_refused(kwargs: dict, needle: str) -> None:
    with pytest.raises(UsageError) as info:
        TolerancePolicy(**kwargs)
    assert needle in str(info.value)
    assert isinstance(info.value, OnnxproofError) and info.value.exit_code == 2


def test_check_tolerance_names_where() -> None:
    check_tolerance(0.0, 0.0, "--tol y")  # zero is exact comparison, allowed
    with pytest.raises(UsageError, match="--tol y: atol -1"):
        check_tolerance(-1, None, "--tol y")
