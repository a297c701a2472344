"""A model with an operator neither exporter can translate.

Loaded only by file reference (never imported as tests.*): registering the op twice would fail.
"""

from __future__ import annotations

import torch
from torch import nn


@torch.library.custom_op("onnxproof_test::wobble", mutates_args=())
def wobble(x: torch.Tensor) -> torch.Tensor:
    return x.sin()


@wobble.register_fake
def _(x: torch.Tensor) -> torch.Tensor:
    return torch.empty_like(x)


class CustomOp(nn.Module):
    """Uses an operator neither exporter can translate."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return wobble(x)
