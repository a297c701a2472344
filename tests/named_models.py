"""Tiny models whose inputs bind by name, and models with padding masks."""

from __future__ import annotations

import torch
from torch import nn


class KeywordMask(nn.Module):
    """The mask is keyword-only: it can only be passed by name."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor, *, mask: torch.Tensor | None = None) -> torch.Tensor:
        h = self.fc(x)
        if mask is not None:
            h = h * mask.unsqueeze(-1)
        return h


class SkippedPast(nn.Module):
    """The second positional parameter is optional and not given: attention_mask goes by name."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 4)

    def forward(
        self,
        input_ids: torch.Tensor,
        past: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        h = self.embed(input_ids)
        if past is not None:
            h = h + past
        if attention_mask is not None:
            h = h * attention_mask.unsqueeze(-1).to(h.dtype)
        return h.sum(dim=1)


def _attention_pool(
    scores: torch.Tensor, x: torch.Tensor, attention_mask: torch.Tensor
) -> torch.Tensor:
    scores = scores.masked_fill(attention_mask == 0, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # NaN on a row with every position masked
    return (weights.unsqueeze(-1) * x).sum(dim=1)


class MaskedRowDivergence(nn.Module):
    """Attention pooling; the export turns the NaN of a fully masked row into zeros, as a
    runtime may. Every row that holds a token agrees."""

    def __init__(self) -> None:
        super().__init__()
        self.score = nn.Linear(4, 1)

    def forward(self, x: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        pooled = _attention_pool(self.score(x).squeeze(-1), x, attention_mask)
        if torch.onnx.is_in_onnx_export():
            pooled = torch.nan_to_num(pooled, nan=0.0)
        return pooled


class FullyMaskedShiftsAll(nn.Module):
    """Once any row is fully masked, the export shifts every row: normal rows differ too."""

    def __init__(self) -> None:
        super().__init__()
        self.score = nn.Linear(4, 1)

    def forward(self, x: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        pooled = _attention_pool(self.score(x).squeeze(-1), x, attention_mask)
        pooled = torch.nan_to_num(pooled, nan=0.0)
        if torch.onnx.is_in_onnx_export():
            empty = (attention_mask.sum(dim=-1) == 0).any()
            pooled = torch.where(empty, pooled + 1.0, pooled)
        return pooled
