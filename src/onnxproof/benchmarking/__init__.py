"""Latency of a runtime on prepared inputs, timed in a block of its own."""

from onnxproof.benchmarking.timing import time_runtime

__all__ = ["time_runtime"]
