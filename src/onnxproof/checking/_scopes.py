"""Which PyTorch module each ONNX node came from, as the exporters record it.

The dynamo exporter writes node metadata ``pkg.torch.onnx.name_scopes`` (['', 'blocks.3',
'blocks.3.fc', 'op']); the TorchScript exporter scoped node names ('/blocks.3/fc/Gemm').
"""

from __future__ import annotations

import ast

import onnx


def node_module_paths(node: onnx.NodeProto) -> list[str]:
    """Module paths (outermost first, root excluded) a node belongs to."""
    for prop in node.metadata_props:
        if prop.key == "pkg.torch.onnx.name_scopes":
            try:
                scopes = ast.literal_eval(prop.value)
            except (ValueError, SyntaxError):
                return []
            return [s for s in scopes[1:-1] if s]
    if node.name.startswith("/"):
        paths: list[str] = []
        for segment in node.name.split("/")[1:-1]:
            if paths and not segment.startswith(paths[-1] + "."):
                segment = f"{paths[-1]}.{segment}"
            paths.append(segment)
        return paths
    return []
