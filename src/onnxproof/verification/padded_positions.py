"""Outputs at padded positions: a difference found only where a padding mask says padding.

A model's output at a padded position is a value nobody reads, and eager PyTorch and a runtime
may legitimately disagree there: PyTorch's nested-tensor fast path of ``nn.TransformerEncoder``
returns zeros at padded positions while the exported graph computes them, and a sliding-window
attention (Mistral) leaves a padded position whose window holds only padding with a fully masked
softmax, which each side resolves its own way. When an output's leading dims are a padding
mask's ``[batch, seq]`` and every element out of tolerance lies at a position that mask marks as
padding, the difference is excused (reported as ``masked-row-mismatch``, a warning) and the token
positions alone are judged. Without that evidence (an output whose dims do not follow the mask,
or a difference at any token position) nothing is excused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from onnxproof.data.roles import token_positions
from onnxproof.results import PaddedMismatch
from onnxproof.specs import MASK_ROLES, TensorSpec
from onnxproof.verification.metrics import float_closeness, is_exact_dtype


@dataclass(frozen=True)
class Excused:
    """The output with its padded-position values set to PyTorch's (so the figures judge the
    token positions only), and what was excused."""

    actual: np.ndarray
    mismatch: PaddedMismatch


def padding_masks(
    feeds: dict[str, np.ndarray], specs: tuple[TensorSpec, ...]
) -> list[tuple[str, np.ndarray]]:
    """Each 2-D padding-mask input as (name, bool [batch, seq] array, True at padding)."""
    masks = []
    for spec in specs:
        mask = feeds.get(spec.name)
        if spec.role in MASK_ROLES and mask is not None and np.ndim(mask) == 2:
            masks.append((spec.name, ~token_positions(mask, spec.role or "mask")))
    return masks


def excuse_padded(
    name: str,
    actual: np.ndarray,
    reference: np.ndarray,
    masks: list[tuple[str, np.ndarray]],
    *,
    atol: float,
    rtol: float,
) -> Excused | None:
    """The excuse for an output that differs only at padded positions; None without the
    evidence (no mask whose [batch, seq] the output's leading dims follow, nothing out of
    tolerance, or something out of tolerance at a token position)."""
    actual, reference = np.asarray(actual), np.asarray(reference)
    if actual.shape != reference.shape or actual.ndim < 2 or is_exact_dtype(reference.dtype):
        return None
    aligned = [(n, p) for n, p in masks if p.shape == reference.shape[:2] and p.any()]
    if not aligned:
        return None
    diff, _, _, close = float_closeness(actual, reference, atol=atol, rtol=rtol)
    far = ~close
    if not far.any():
        return None
    for mask_name, padded in aligned:
        at_padding = np.broadcast_to(
            padded.reshape(padded.shape + (1,) * (reference.ndim - 2)), reference.shape
        )
        if (far & ~at_padding).any():
            continue  # a token position differs: judged as usual
        mismatch = PaddedMismatch(
            output=name,
            mask=mask_name,
            elements=int(far.sum()),
            max_abs_diff=float(diff[far].max()),
        )
        return Excused(actual=np.where(at_padding, reference, actual), mismatch=mismatch)
    return None
