"""Engines that compare a dataset on both sides: ``local`` (this process, the default:
``verification.dataset.verify_dataset``) and ``ray`` (batches spread over the actors of a Ray
cluster), and sweeps of models likewise.

Both build per-batch statistics with ``verification.dataset.compare_batch`` and merge them with
one ``DatasetTally`` in batch order, so their reports agree figure for figure. Ray is imported
only by ``engines.ray``, and only when that engine runs.
"""

from __future__ import annotations

from typing import Literal

Engine = Literal["local", "ray"]
ENGINES: tuple[Engine, ...] = ("local", "ray")

__all__ = ["ENGINES", "Engine"]
