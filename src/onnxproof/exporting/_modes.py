"""Eval mode for export and verification, restoring the caller's training flags afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


def training_submodules(module: torch.nn.Module) -> tuple[str, ...]:
    """Paths of the submodules in training mode (``""`` is the root, shown as ``<root>``)."""
    return tuple(name or "<root>" for name, m in module.named_modules() if m.training)


@contextlib.contextmanager
def eval_mode(module: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """``module.eval()`` for the duration, then every submodule's own flag put back."""
    flags = [(m, m.training) for m in module.modules()]
    try:
        module.eval()
    except NotImplementedError:
        pass  # a torch.export program's module: its mode was fixed when it was exported
    try:
        yield module
    finally:
        for m, flag in flags:
            m.training = flag
