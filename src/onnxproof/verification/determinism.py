"""Run the same feeds twice through one session: outputs that change are nondeterministic."""

from __future__ import annotations

import numpy as np

from onnxproof.runtimes import Session


def differing_outputs(session: Session, feeds: dict[str, np.ndarray]) -> list[str]:
    """Names of outputs whose two runs differ bitwise (NaN equal to NaN). A failing run is not
    nondeterminism: it is reported by parity, so it yields no names here."""
    try:
        first = session.infer(feeds)
        second = session.infer(feeds)
    except Exception:
        return []
    return [
        name
        for name, value in first.items()
        if not np.array_equal(value, second[name], equal_nan=value.dtype.kind in "fc")
    ]
