"""Tiny models the Ray tests load by reference (``tiny.py:Name``) on each worker."""

from __future__ import annotations

import torch
from torch import nn


class TinyMLP(nn.Module):
    onnxproof_inputs = ("x:float32[batch,10]",)

    def __init__(self) -> None:
        super().__init__()
        with torch.random.fork_rng():  # the same weights in every process that builds it
            torch.manual_seed(0)
            self.net = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class DivergesAboveFour(TinyMLP):
    """The exported file clamps feature 0 at 4: only samples with x[:, 0] > 4 disagree."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.onnx.is_in_onnx_export():
            x = torch.cat([x[:, :1].clamp(max=4.0), x[:, 1:]], dim=1)
        return self.net(x)
