"""Data for inputs with a role: padding masks (tokens, then padding) and position ids (0, 1, ...).

A padding mask marks, per row, which positions hold tokens: tokens, then padding on the right,
and every second row padded on the left instead. With the ``mask`` role 1 marks a token (ones, then zeros); with the ``pad`` role 1
(True) marks padding (zeros, then ones), as PyTorch's ``key_padding_mask`` reads it. A mask drawn
at random (0..9, or all ones) would either mean nothing to the model or never exercise the
padded positions at all.
"""

from __future__ import annotations

import numpy as np

from onnxproof.specs import MASK_ROLES, TensorSpec


def padding_mask(shape: tuple[int, ...], dtype: np.dtype, rng: np.random.Generator) -> np.ndarray:
    """Each row along the last dim: ones for a length drawn in [1, len], then zeros; every
    second row padded on the left instead (zeros, then the ones).

    Left padding is what batched decoding feeds, and the only way a file that ignores the mask
    shows at token positions in a causal model: with right padding alone no token sees a padded
    position. No row is all zeros (a fully masked row is its own degenerate case, see
    ``fully_masked``); a row of length 0 is empty.
    """
    if not shape:
        return np.ones((), dtype=dtype)
    rows, length = shape[:-1], shape[-1]
    if length == 0:
        return np.zeros(shape, dtype=dtype)
    lengths = np.expand_dims(rng.integers(1, length, size=rows, endpoint=True), -1)
    positions = np.arange(length)
    left = np.expand_dims(np.arange(int(np.prod(rows))).reshape(rows) % 2 == 1, -1)
    held = np.where(left, positions >= length - lengths, positions < lengths)
    return np.asarray(held).astype(dtype)


def token_positions(mask: np.ndarray, role: str) -> np.ndarray:
    """Where a mask of that role (``mask`` or ``pad``) says a token is, as bools."""
    held = np.asarray(mask).astype(bool)
    return ~held if role == "pad" else held


def position_ids(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """0, 1, 2, ... along the last dim, the same in every row."""
    if not shape:
        return np.zeros((), dtype=dtype)
    return np.broadcast_to(np.arange(shape[-1]), shape).astype(dtype)


def role_array(
    spec: TensorSpec, shape: tuple[int, ...], dtype: np.dtype, rng: np.random.Generator
) -> np.ndarray:
    """The array for a spec with a role (``spec.role`` is not None)."""
    if spec.role == "mask":
        return padding_mask(shape, dtype, rng)
    if spec.role == "pad":
        # the same rows with the polarity flipped: zeros on the tokens, ones on the padding
        return np.asarray(padding_mask(shape, np.dtype(bool), rng) == 0).astype(dtype)
    return position_ids(shape, dtype)


def fully_masked(
    feeds: dict[str, np.ndarray], specs: tuple[TensorSpec, ...]
) -> dict[str, np.ndarray]:
    """The feeds with the first row of every padding mask all padding (the other rows kept):
    all zeros for a ``mask``, all ones for a ``pad``.

    The row is the first index along the mask's leading dim (the batch).
    """
    changed = dict(feeds)
    for spec in specs:
        if spec.role in MASK_ROLES and spec.name in feeds and feeds[spec.name].ndim >= 2:
            mask = np.array(feeds[spec.name], copy=True)
            mask[0] = 1 if spec.role == "pad" else 0
            changed[spec.name] = mask
    return changed
