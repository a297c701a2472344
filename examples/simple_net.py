"""The tutorial's SimpleNet: Linear 10→16, ReLU, Linear 16→3. The built-in example of `onnxproof run`."""

import torch
from torch import nn


class SimpleNet(nn.Module):
    # onnxproof reads this when no --input is given: one float input, dynamic batch.
    onnxproof_inputs = ["input:float32[batch,10]"]

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(10, 16)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.relu(self.fc1(x)))
