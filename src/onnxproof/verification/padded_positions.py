"""Outputs at padded positions: a difference found only where a padding mask says padding.

A model's output at a padded position is a value nobody reads, and eager PyTorch and a runtime
may legitimately disagree there: PyTorch's nested-tensor fast path of ``nn.TransformerEncoder``
returns zeros at padded positions while the exported graph computes them, and a sliding-window
attention (Mistral) leaves a padded position whose window holds only padding with a fully masked
softmax, which each side resolves its own way. When an output's leading dims are a padding
mask's ``[batch, seq]`` and every element out of tolerance lies at a position that mask marks as
padding, the difference is excused (reported as ``masked-row-mismatch``, a warning) and the token
positions alone are judged. Without that evidence (an output whose dims do not follow the mask,
or a difference at any token position) nothing is excused. Equal sizes are not enough when the
file names its output's dims: an output laid out [seq, batch, ...] has the mask's sizes whenever
batch == seq, so a dynamic dim must carry the mask's dim name too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from onnxproof.data.roles import token_positions
from onnxproof.results import CheckReport, PaddedMismatch
from onnxproof.specs import MASK_ROLES, TensorSpec
from onnxproof.verification.metrics import float_closeness, is_exact_dtype

#: An output's dims as the ONNX file declares them: int (static), name (dynamic), None (unknown).
FileDims = tuple[int | str | None, ...]


@dataclass(frozen=True)
class PaddingMask:
    """A 2-D padding-mask input of one case: True where it marks padding."""

    name: str
    padded: np.ndarray
    #: The spec's names of its two dims (None for a static dim).
    dim_names: tuple[str | None, ...]

    def rows(self, kept: list[int]) -> PaddingMask:
        return PaddingMask(name=self.name, padded=self.padded[kept], dim_names=self.dim_names)

    def follows(self, shape: tuple[int, ...], dims: FileDims | None) -> bool:
        """An output of this shape (and these declared dims) is laid out [batch, seq, ...] as
        this mask is."""
        if self.padded.shape != shape[:2]:
            return False
        if dims is None or len(dims) < 2:
            return True
        batch, seq = dims[0], dims[1]
        if isinstance(batch, str) and batch != self.dim_names[0]:
            return False
        # The sequence dim must be the mask's by name: a static size that happens to equal it
        # (a pooled [batch, hidden] output with hidden == seq) is another axis.
        return isinstance(seq, str) and seq == self.dim_names[1]


@dataclass(frozen=True)
class Excused:
    """The output with its padded-position values set to PyTorch's (so the figures judge the
    token positions only), and what was excused."""

    actual: np.ndarray
    mismatch: PaddedMismatch


def declared_dims(check: CheckReport | None) -> dict[str, FileDims]:
    """Each output's dims as the checked file declares them (outputs of unknown rank left out)."""
    outputs = check.info.outputs if check is not None and check.info is not None else ()
    return {t.name: t.shape for t in outputs if t.shape is not None}


def padding_masks(feeds: dict[str, np.ndarray], specs: tuple[TensorSpec, ...]) -> list[PaddingMask]:
    """Each 2-D padding-mask input of the case."""
    masks = []
    for spec in specs:
        mask = feeds.get(spec.name)
        if spec.role in MASK_ROLES and mask is not None and np.ndim(mask) == 2:
            padded = ~token_positions(mask, spec.role or "mask")
            names = tuple(d.name for d in spec.dims)
            masks.append(PaddingMask(name=spec.name, padded=padded, dim_names=names))
    return masks


def excuse_padded(
    name: str,
    actual: np.ndarray,
    reference: np.ndarray,
    masks: list[PaddingMask],
    *,
    atol: float,
    rtol: float,
    dims: FileDims | None = None,
) -> Excused | None:
    """The excuse for an output that differs only at padded positions; None without the
    evidence (no mask whose [batch, seq] the output's leading dims follow, by size and by the
    names in ``dims`` when the file gives them; nothing out of tolerance; or something out of
    tolerance at a token position)."""
    actual, reference = np.asarray(actual), np.asarray(reference)
    if actual.shape != reference.shape or actual.ndim < 2:
        return None
    aligned = [m for m in masks if m.follows(reference.shape, dims) and m.padded.any()]
    if not aligned:
        return None
    if is_exact_dtype(reference.dtype) and is_exact_dtype(actual.dtype):  # compared exactly
        close = np.asarray(actual == reference)
        diff = np.abs(actual.astype(np.float64) - reference.astype(np.float64))
    else:
        diff, _, _, close = float_closeness(actual, reference, atol=atol, rtol=rtol)
    far = ~close
    if not far.any():
        return None
    for mask in aligned:
        padded = mask.padded
        at_padding = np.broadcast_to(
            padded.reshape(padded.shape + (1,) * (reference.ndim - 2)), reference.shape
        )
        if (far & ~at_padding).any():
            continue  # a token position differs: judged as usual
        mismatch = PaddedMismatch(
            output=name,
            mask=mask.name,
            elements=int(far.sum()),
            max_abs_diff=float(diff[far].max()),
        )
        return Excused(actual=np.where(at_padding, reference, actual), mismatch=mismatch)
    return None
