"""The ``onnxproof`` command. Thin: parse → one library call → render → exit code."""

from onnxproof.cli._commands import app, main

__all__ = ["app", "main"]
