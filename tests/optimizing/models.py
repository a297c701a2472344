"""Tiny models for the optimize tests: each plants one thing a lower precision gets wrong."""

from __future__ import annotations

import torch
from torch import nn


class OutlierChannel(nn.Module):
    """fc1 has one output channel 1e4 times the others; fc2 reads the small channels (its
    weight on the big one is scaled down to match). One int8 scale for all of fc1's output rounds
    the small channels to zero: per-tensor static quantization destroys fc2's output."""

    onnxproof_inputs = ["x:float32[batch,16]"]

    def __init__(self) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.fc0 = nn.Linear(16, 32)
        self.fc1 = nn.Linear(32, 32)
        self.fc2 = nn.Linear(32, 32)
        self.fc3 = nn.Linear(32, 3)
        for layer in (self.fc0, self.fc1, self.fc2, self.fc3):
            layer.weight.data = torch.randn(layer.weight.shape, generator=generator) * 0.3
            layer.bias.data = torch.randn(layer.bias.shape, generator=generator) * 0.1
        with torch.no_grad():
            self.fc1.weight[0] *= 1e4
            self.fc1.bias[0] = 1e4
            self.fc2.weight[:, 0] *= 1e-4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.fc0(x))
        h = torch.relu(self.fc1(h))
        h = torch.relu(self.fc2(h))
        return self.fc3(h)


class HandWrittenLayerNorm(nn.Module):
    """A LayerNorm written out, as older code does: ``x * x`` of activations ~5e3 is ~2.5e7,
    past float16's 65504."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))
        self.bias = nn.Parameter(torch.zeros(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        centred = x - x.mean(-1, keepdim=True)
        variance = (centred * centred).mean(-1, keepdim=True)
        return centred / torch.sqrt(variance + 1e-5) * self.weight + self.bias


class LargeActivationNorm(nn.Module):
    """Activations of ~1e3-1e4 normalized by a hand-written LayerNorm, then classified."""

    onnxproof_inputs = ["x:float32[batch,16]"]

    def __init__(self) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.up = nn.Linear(16, 32)
        self.norm = HandWrittenLayerNorm(32)
        self.head = nn.Linear(32, 5)
        self.up.weight.data = torch.randn(self.up.weight.shape, generator=generator) * 1500
        self.up.bias.data = torch.full((32,), 2000.0)
        self.head.weight.data = torch.randn(self.head.weight.shape, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(self.up(x)))


def tiny_bert() -> nn.Module:
    """BertForSequenceClassification: hidden 32, 2 layers, vocabulary 100, 3 labels."""
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        num_labels=3,
    )
    return BertForSequenceClassification(config).eval()


class MaskCastToFloat(nn.Module):
    """Pools tokens under an integer mask cast with ``mask.float()``, as attention code does.
    The fp16 converter leaves that Cast's ``to`` at float32 while declaring its output float16."""

    onnxproof_inputs = ["x:float32[batch,8,16]", "mask:int64[batch,8]"]

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.proj = nn.Linear(16, 16)
        self.head = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        weights = mask.float().unsqueeze(-1)
        pooled = (self.proj(x) * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        return self.head(pooled)
