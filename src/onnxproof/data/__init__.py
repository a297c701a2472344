"""Inputs for verification: seeded synthetic cases from specs. Any iterable of dicts works too."""

from onnxproof.data.synthetic import DRAWS, Case, case_sizes, synthetic_cases

__all__ = ["DRAWS", "Case", "case_sizes", "synthetic_cases"]
