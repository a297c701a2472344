"""Options refused before any work: a runtime name nobody knows, an opset no exporter can write.

Each would otherwise be found only after the model was loaded, exported and run (an unknown
runtime became a "could not judge" row, an impossible opset a file left at 18 with a warning).
"""

from __future__ import annotations

from collections.abc import Sequence

from onnxproof.errors import UsageError

#: The lowest opset an exporter here can write (the TorchScript exporter's floor; torch's own
#: ``ONNX_MIN_OPSET``). The dynamo exporter translates at 18 and down-converts to lower requests.
LOWEST_OPSET = 7


def check_runtime_names(names: Sequence[str], *, option: str = "--runtime") -> None:
    """Every name is a runtime onnxproof knows (installed or not: that is judged later)."""
    from onnxproof.runtimes import REGISTRY

    for name in names:
        if name not in REGISTRY:
            raise UsageError(
                f"{option} {name!r} is not a runtime onnxproof knows",
                hint=f"choose from {', '.join(REGISTRY)}",
            )


def highest_opset() -> int:
    """The newest opset of the default domain the installed onnx package defines."""
    import onnx.defs

    return int(onnx.defs.onnx_opset_version())


def check_opset(opset: int | None) -> None:
    """``opset`` (None: the default) is one an exporter can write and the installed onnx knows."""
    if opset is None:
        return
    highest = highest_opset()
    if isinstance(opset, bool) or not isinstance(opset, int):
        raise UsageError(
            f"--opset {opset!r} is not a whole number",
            hint=f"ask for an opset from {LOWEST_OPSET} to {highest} (default 18)",
        )
    if opset < LOWEST_OPSET:
        raise UsageError(
            f"--opset {opset} is below {LOWEST_OPSET}, the lowest opset the exporters can write",
            hint=f"ask for an opset from {LOWEST_OPSET} to {highest} (default 18)",
        )
    if opset > highest:
        raise UsageError(
            f"--opset {opset} is above {highest}, the newest opset the installed onnx defines",
            hint=f"ask for an opset from {LOWEST_OPSET} to {highest} (default 18), or upgrade onnx",
        )
