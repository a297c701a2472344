"""onnx.checker, shape inference and model info for one ONNX file. Never imports torch."""

from onnxproof.checking._check import check_model
from onnxproof.checking._info import model_info

__all__ = ["check_model", "model_info"]
