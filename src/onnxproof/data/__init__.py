"""Inputs for verification: seeded synthetic cases from specs. Any iterable of dicts works too."""

from onnxproof.data.synthetic import DRAWS, MAX_SEED, Case, case_sizes, check_seed, synthetic_cases

__all__ = ["DRAWS", "MAX_SEED", "Case", "case_sizes", "check_seed", "synthetic_cases"]
