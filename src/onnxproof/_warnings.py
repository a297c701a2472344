"""Warnings raised by other libraries while onnxproof reads a user's file go to the log.

``torch.load`` warns about a file's pickle protocol (with the line of torch's code that warned)
just before it refuses the file; the user should see onnxproof's one-line error alone, and
``--verbose`` still shows the warning.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator


@contextlib.contextmanager
def warnings_logged(log: logging.Logger) -> Iterator[None]:
    """Catch every warning raised inside and log it at INFO instead of printing it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for warning in caught:
                log.info("%s: %s", warning.category.__name__, warning.message)
