"""Tiny real models for the tests, each built with no arguments."""

from __future__ import annotations

import typing

import torch
from torch import nn


class SimpleNet(nn.Module):
    onnxproof_inputs = ["input:float32[batch,10]"]

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(10, 16)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.relu(self.fc1(x)))


class ExportOnlyDivergence(nn.Module):
    """Takes another path while being exported: the ONNX file computes h + 1."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(10, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc(x)
        if torch.onnx.is_in_onnx_export():
            return h + 1
        return h


class DataDependentBranch(nn.Module):
    """A Python `if` on a tensor value: dynamo refuses it, tracing freezes one path."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(10, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc(x)
        if h.sum() > 0:
            return h * 2
        return h - 1


class DropoutBatchNorm(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(10, 8)
        self.bn = nn.BatchNorm1d(8)
        self.drop = nn.Dropout(0.5)
        self.out = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.drop(self.bn(self.fc(x))))


def left_in_training() -> nn.Module:
    """A factory that hands over a model in training mode, with non-trivial BatchNorm stats."""
    torch.manual_seed(0)
    model = DropoutBatchNorm()
    model.bn.running_mean.uniform_(-1, 1)
    model.bn.running_var.uniform_(0.5, 2)
    return model.train()


class DictOutputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(10, 4)

    def forward(self, x: torch.Tensor) -> dict[str, object]:
        return {"logits": self.fc(x), "aux": (x.sum(-1), (x > 0).any(-1))}


class TwoInputs(nn.Module):
    """Token ids and a float mask sharing the batch and seq dims."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(50, 8)
        self.fc = nn.Linear(8, 2)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.fc(self.emb(ids) * mask.unsqueeze(-1)).sum(1)


class NeedsArguments(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.fc = nn.Linear(width, 2)


def not_a_module() -> int:
    return 3


class NoisyOutput(nn.Module):
    """Adds fresh noise on every call, in eval mode too."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(10, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x) + torch.rand_like(self.fc(x))


class LenBakesBatch(nn.Module):
    """len(x) is a Python int to the tracer: the example batch size becomes a constant."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(10, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x) + torch.zeros(len(x), 4)


class Double(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(10, 4).double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.double()).float()


class Block(nn.Module):
    def __init__(self, planted: bool = False) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.act = nn.Tanh()
        self.planted = planted

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.fc(x))
        if self.planted and torch.onnx.is_in_onnx_export():
            h = h * 1.5
        return h + x


class Blocks(nn.Module):
    """Identical blocks; ``bad`` takes an export-only path (None: none does)."""

    def __init__(self, n: int = 6, bad: int | None = 3) -> None:
        super().__init__()
        self.inp = nn.Linear(4, 8)
        self.blocks = nn.ModuleList([Block(i == bad) for i in range(n)])
        self.head = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp(x)
        for block in self.blocks:
            h = block(h)
        return self.head(h)


class DivergesOnLargeInputs(nn.Module):
    """Export-only clamp that bites only above |50|: random draws (|x| <= 10) never see it."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(10, 4)
        self.head = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.onnx.is_in_onnx_export():
            x = x.clamp(-50, 50)
        return self.head(self.fc(x))


class OnlyEvenBatches(nn.Module):
    """PyTorch itself rejects odd batch sizes: those cases are skipped, not failed."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(10, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pairs = x.reshape(-1, 2, 10)
        return self.fc(pairs.mean(1))


class Noise(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.randn_like(x)


class NoisyChild(nn.Module):
    """The random op lives in a submodule, so findings can name its path."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(10, 4)
        self.noise = Noise()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.noise(self.fc(x))


class MutatesInput(nn.Module):
    """Changes its input in place: every consumer must get its own copy of the inputs."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x.mul_(2)
        return x + 1


class EmptyOutput(nn.Module):
    """Its output has no elements at any size: nothing can be compared."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :0] * 2


class ConstantWeights(nn.Module):
    """Weights that are the same however often it is built: a fresh build matches any file."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(10, 3)
        nn.init.constant_(self.fc.weight, 0.5)
        nn.init.constant_(self.fc.bias, -0.25)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


class PrintsInForward(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(10, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        print("model says hello")
        return self.fc(x)


class ExitsWhileVerified(nn.Module):
    """Calls sys.exit(0) at batch 7, a size only verification feeds."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.compiler.is_exporting() and x.shape[0] == 7:
            import sys

            sys.exit(0)
        return x * 3


class SleepsWhileVerified(nn.Module):
    """Hangs at batch 7, a size only verification feeds."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.compiler.is_exporting() and x.shape[0] == 7:
            import time

            time.sleep(120)
        return x * 3


class SignalsWhileExported(nn.Module):
    """Sends its own process a signal (ONNXPROOF_TEST_SIGNAL) while the exporter traces it: a
    Ctrl-C or SIGTERM that arrives in the middle of an export."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        import os
        import signal

        if torch.compiler.is_exporting() or torch.onnx.is_in_onnx_export():
            name = os.environ.get("ONNXPROOF_TEST_SIGNAL", "SIGINT")
            os.kill(os.getpid(), getattr(signal, name))
        return x * 3


class NestedOutputs(nn.Module):
    """Outputs nested in dicts with a None entry and names that collide once joined by '.'."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(10, 4)

    def forward(self, x: torch.Tensor) -> dict[str, object]:
        h = self.fc(x)
        return {"a": {"b": h, "skip": None}, "a.b": h * 2, "pair": (h + 1, h - 1)}


class Pair(typing.NamedTuple):
    logits: torch.Tensor
    hidden: torch.Tensor


class NamedTupleOutputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(10, 4)

    def forward(self, x: torch.Tensor) -> Pair:
        h = self.fc(x)
        return Pair(logits=h * 3, hidden=h)


class ReturnsNothing(nn.Module):
    def forward(self, x: torch.Tensor) -> None:
        return None


class ReturnsText(nn.Module):
    def forward(self, x: torch.Tensor) -> str:
        return "not a tensor"


class SmallCNN(nn.Module):
    """Conv/BN/ReLU/MaxPool twice, a BN the exporter cannot fold, global pooling, Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.ReLU(),
            nn.BatchNorm2d(16),  # after the ReLU: stays a BatchNormalization node in the file
            nn.MaxPool2d(2),
        )
        self.head = nn.Linear(16, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


def with_trained_stats(model: nn.Module) -> nn.Module:
    """BatchNorm statistics away from 0/1 (as after training), so the BN nodes do real work."""
    generator = torch.Generator().manual_seed(0)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.copy_(torch.randn(module.num_features, generator=generator))
            module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
    return model.eval()
