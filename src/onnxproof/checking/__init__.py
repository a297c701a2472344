"""onnx.checker, shape inference and model info for one ONNX file. Never imports torch."""

from onnxproof.checking._check import check_model, read_model
from onnxproof.checking._info import dtype_name, external_data_path, model_info
from onnxproof.checking._scopes import node_module_paths, node_scopes

__all__ = [
    "check_model",
    "dtype_name",
    "external_data_path",
    "model_info",
    "node_module_paths",
    "node_scopes",
    "read_model",
]
