"""Findings with stable codes. One module per rule family; each rule returns Finding records."""

from onnxproof.lint.codes import CODES, FindingCode

__all__ = ["CODES", "FindingCode"]
