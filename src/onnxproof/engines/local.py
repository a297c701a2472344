"""The local engine: batches streamed through both sessions in this process, no Ray needed."""

from __future__ import annotations

from onnxproof.verification.dataset import DatasetOutcome, verify_dataset

__all__ = ["DatasetOutcome", "verify_dataset"]
