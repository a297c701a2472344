"""One degenerate case for models with a padding mask: a row with every position masked.

Eager PyTorch and ONNX runtimes legitimately differ on such a row: the softmax sees only -inf
(or only the dtype's lowest value) and each side resolves that its own way (NaN, a uniform
average, zeros). A difference confined to the fully masked rows is therefore reported apart
(``masked-row-mismatch``, a warning); a difference on the rows that hold tokens is a failure
like any other.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from onnxproof.data import Case, synthetic_cases
from onnxproof.data.roles import fully_masked, token_positions
from onnxproof.runtimes import Session
from onnxproof.specs import MASK_ROLES, TensorSpec
from onnxproof.verification.metrics import compare
from onnxproof.verification.padded_positions import (
    FileDims,
    PaddingMask,
    excuse_padded,
    padding_masks,
)
from onnxproof.verification.tolerance import TolerancePolicy

log = logging.getLogger(__name__)

#: The draw label of the degenerate case in reports.
DRAW = "fully-masked-row"


@dataclass(frozen=True, kw_only=True)
class MaskedRowsOutcome:
    """The degenerate case compared on every row, then on the rows that hold tokens."""

    case: Case
    #: Batch rows (leading index of the masks) with every position masked.
    masked_rows: tuple[int, ...]
    #: Outputs that differ only on the fully masked rows.
    masked_only: tuple[str, ...] = ()
    #: Outputs that differ on rows that hold tokens: a failure.
    failed: tuple[str, ...] = ()
    #: The candidate could not run the case (a failure too).
    error: str | None = None
    #: Largest difference on the masked rows, per output in ``masked_only``.
    masked_diffs: dict[str, float] | None = None


def masked_row_case(specs: tuple[TensorSpec, ...], seed: int) -> Case | None:
    """The first generated case (example sizes, normal draw) with the first row of every padding
    mask all zeros; None when no input is a padding mask."""
    if not any(s.role in MASK_ROLES and len(s.dims) >= 2 for s in specs):
        return None
    first = next(iter(synthetic_cases(specs, seed=seed, draws=("normal",))))
    return Case(index=-1, sizes=first.sizes, draw=DRAW, feeds=fully_masked(first.feeds, specs))


def verify_masked_rows(
    reference: Session,
    candidate: Session,
    case: Case,
    *,
    specs: tuple[TensorSpec, ...],
    policy: TolerancePolicy,
    output_dims: dict[str, FileDims] | None = None,
) -> MaskedRowsOutcome | None:
    """Compare the degenerate case; None when PyTorch itself refuses it (nothing to judge).
    ``output_dims`` (each output's dims as the file declares them) keeps the padded-position
    excuse to outputs laid out as the masks are."""
    dims = output_dims or {}
    rows = _masked_rows(case.feeds, specs)
    try:
        expected = reference.infer(case.feeds)
    except Exception as exc:
        log.info("PyTorch refused the fully masked row: %s", exc)
        return None
    try:
        actual = candidate.infer(case.feeds)
    except Exception as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return MaskedRowsOutcome(case=case, masked_rows=rows, error=reason)
    batch = _batch_size(case.feeds, specs)
    masks = padding_masks(case.feeds, specs)
    masked_only: list[str] = []
    failed: list[str] = []
    diffs: dict[str, float] = {}
    for name, ref in expected.items():
        got = actual.get(name)
        ref = np.asarray(ref)
        atol, rtol = policy.for_output(name, str(ref.dtype))
        if got is None or compare(got, ref, atol=atol, rtol=rtol).passed:
            if got is None:
                failed.append(name)
            continue
        got = np.asarray(got)
        by_rows = ref.ndim >= 1 and ref.shape == got.shape and ref.shape[0] == batch
        if not by_rows:
            failed.append(name)
            continue
        kept = [i for i in range(batch) if i not in rows]
        if _tokens_agree(
            name, got[kept], ref[kept], [m.rows(kept) for m in masks], atol, rtol, dims.get(name)
        ):
            masked_only.append(name)
            rows_list = list(rows)
            diffs[name] = compare(got[rows_list], ref[rows_list], atol=atol, rtol=rtol).max_abs_diff
        else:
            failed.append(name)
    return MaskedRowsOutcome(
        case=case,
        masked_rows=rows,
        masked_only=tuple(masked_only),
        failed=tuple(failed),
        masked_diffs=diffs,
    )


def _tokens_agree(
    name: str,
    got: np.ndarray,
    ref: np.ndarray,
    masks: list[PaddingMask],
    atol: float,
    rtol: float,
    dims: FileDims | None,
) -> bool:
    """The rows that hold tokens agree, a difference only at their padded positions excused
    (as in the generated cases)."""
    if compare(got, ref, atol=atol, rtol=rtol).passed:
        return True
    return excuse_padded(name, got, ref, masks, atol=atol, rtol=rtol, dims=dims) is not None


def _masked_rows(feeds: dict[str, np.ndarray], specs: tuple[TensorSpec, ...]) -> tuple[int, ...]:
    """Rows (leading index) where some padding mask marks no position as a token."""
    rows: set[int] = set()
    for spec in specs:
        mask = feeds.get(spec.name)
        if spec.role not in MASK_ROLES or mask is None or mask.ndim < 2 or mask.shape[0] == 0:
            continue
        tokens = token_positions(mask, spec.role or "mask").reshape(mask.shape[0], -1)
        rows.update(int(i) for i in np.flatnonzero(~tokens.any(axis=1)))
    return tuple(sorted(rows))


def _batch_size(feeds: dict[str, np.ndarray], specs: tuple[TensorSpec, ...]) -> int:
    masks = [feeds[s.name] for s in specs if s.role in MASK_ROLES and s.name in feeds]
    return int(masks[0].shape[0]) if masks else 0
