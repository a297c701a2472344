"""Optimize and quantize an ONNX file, each variant verified before it is written.

``_build`` makes the variants with ONNX Runtime, onnxslim and onnxconverter_common; ``_gate``
holds the gate and the tolerance presets; ``_drift`` finds the node where a variant broke;
``_core`` runs the rounds and writes the variants that pass.
"""

from onnxproof.optimizing._build import CALIBRATION_METHODS, VARIANTS
from onnxproof.optimizing._core import (
    DEFAULT_VARIANTS,
    OptimizeOptions,
    check_options,
    optimize_file,
)
from onnxproof.optimizing._data import Samples, apart, split, synthetic
from onnxproof.optimizing._gate import PRESETS, TOP1, parse_gate

__all__ = [
    "CALIBRATION_METHODS",
    "DEFAULT_VARIANTS",
    "PRESETS",
    "TOP1",
    "VARIANTS",
    "OptimizeOptions",
    "Samples",
    "apart",
    "check_options",
    "optimize_file",
    "parse_gate",
    "split",
    "synthetic",
]
