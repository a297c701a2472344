from __future__ import annotations

from onnxproof.verification.tolerance import TolerancePolicy


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
