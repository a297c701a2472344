"""Lint rules raise here instead of being skipped: a rule that breaks on a valid model fails."""

from __future__ import annotations

import pytest

from onnxproof.linting import STRICT_ENV


@pytest.fixture(autouse=True)
def strict_lint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STRICT_ENV, "1")
