"""Which PyTorch module each ONNX node came from, as the exporters record it.

The dynamo exporter writes node metadata ``pkg.torch.onnx.name_scopes`` (['', 'blocks.3',
'blocks.3.fc', 'op']); the TorchScript exporter scoped node names ('/blocks.3/fc/Gemm').
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection

import onnx

_SCOPES_KEY = "pkg.torch.onnx.name_scopes"
_REPEAT = re.compile(r"^(.*)_(\d+)$")


def node_module_paths(node: onnx.NodeProto, known: Collection[str] = ()) -> list[str]:
    """Module paths (outermost first, root excluded) a node belongs to.

    ``known`` (the model's module paths) turns the TorchScript exporter's names for repeated
    calls ('fc_1') back into the module ('fc').
    """
    return node_scopes(node, known) or []


def node_scopes(node: onnx.NodeProto, known: Collection[str]) -> list[str] | None:
    """Like ``node_module_paths``; None when the node carries no scope at all."""
    for prop in node.metadata_props:
        if prop.key == _SCOPES_KEY:
            try:
                scopes = ast.literal_eval(prop.value)
            except (ValueError, SyntaxError):
                return None
            return [s for s in scopes[1:-1] if s]
    if not node.name.startswith("/"):
        return None
    paths: list[str] = []
    for segment in node.name.split("/")[1:-1]:
        if paths and not segment.startswith(paths[-1] + "."):
            segment = f"{paths[-1]}.{segment}"
        repeat = _REPEAT.match(segment)
        if segment not in known and repeat and repeat.group(1) in known:
            segment = repeat.group(1)
        paths.append(segment)
    return paths
