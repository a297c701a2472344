"""An ONNX file given to ``verify`` must fit the model and the specs before any case runs.

Its inputs' dtypes, ranks and static dims, and its number of outputs, are facts of the file:
a spec or a model that contradicts them is a usage error (exit 2) naming both sides, not a
parity failure that blames the export or PyTorch once every case has run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from onnxproof.errors import UsageError
from onnxproof.results import TensorInfo
from onnxproof.specs import DTYPES, TensorSpec

if TYPE_CHECKING:
    from onnxproof.pipeline._context import RunContext
    from onnxproof.pipeline._verify import Sessions


def _declared(info: TensorInfo) -> str:
    dims = ",".join(f"d{i}" if d is None else str(d) for i, d in enumerate(info.shape or ()))
    return f"{info.dtype}[{dims}]"


def _contradiction(spec: TensorSpec, info: TensorInfo) -> str | None:
    """What the spec says that the file's declaration of the same input denies, or None."""
    # A dtype outside the spec grammar (a sequence, string tensors) is left to the runtimes.
    if info.dtype != spec.dtype and info.dtype in DTYPES.values():
        return f"dtype {spec.dtype}"
    if info.shape is None:
        return None  # the file declares no shape: nothing to contradict
    if len(info.shape) != len(spec.dims):
        return f"rank {len(spec.dims)}"
    for axis, (dim, declared) in enumerate(zip(spec.dims, info.shape, strict=True)):
        # A named dim the file fixed is the export baking a size in: parity judges that.
        if not dim.dynamic and isinstance(declared, int) and declared > 0 and dim.size != declared:
            return f"dim {axis} = {dim.size}"
    return None


def check_inputs_fit(specs: Sequence[TensorSpec], inputs: Sequence[TensorInfo], path: str) -> None:
    """Each spec agrees with the file's input of that name in dtype, rank and static dims."""
    declared = {info.name: info for info in inputs}
    for spec in specs:
        info = declared.get(spec.name)
        if info is None:
            continue  # names are compared by check_step
        wrong = _contradiction(spec, info)
        if wrong is not None:
            raise UsageError(
                f"input {spec.name!r}: the spec {spec} says {wrong}, but {path} declares "
                f"{spec.name}:{_declared(info)}",
                hint=f"give --input as the file declares it, e.g. {spec.name}:{_declared(info)}",
            )


def check_outputs_fit(ctx: RunContext, sessions: Sessions, path: str) -> None:
    """The model returns as many tensors as the file has outputs (one small case is run)."""
    from onnxproof.data import synthetic_cases
    from onnxproof.runtimes._base import OutputCountMismatch

    info = ctx.check.info if ctx.check else None
    if info is None:
        return
    first = next(iter(synthetic_cases(ctx.specs, seed=ctx.verify_options.seed)), None)
    if first is None:
        return
    try:
        sessions.reference.infer(first.feeds)
    except OutputCountMismatch as exc:
        names = ", ".join(t.name for t in info.outputs)
        raise UsageError(
            f"{path} has {exc.expected} output(s) ({names}) where {ctx.loaded.reference} returns "
            f"{exc.returned} tensor(s): the file was not exported from this model, or its "
            "outputs were changed",
            hint="verify the file against the model it was exported from, or export it again",
        ) from None
    except Exception:
        return  # the model's own errors are reported case by case by the parity step
