"""Shared CLI pieces: the output sink, the common options, error → one line and an exit code."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from onnxproof.errors import OnnxproofError

F = TypeVar("F", bound=Callable[..., Any])

#: The verdict → the exit code (0 passed, 1 a check failed, 3 onnxproof could not judge).
EXIT_CODES = {"pass": 0, "fail": 1, "error": 3}


class Sink:
    """Data to stdout, diagnostics to stderr; colour only on a terminal without NO_COLOR."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.color = sys.stdout.isatty() and "NO_COLOR" not in os.environ

    def show(self, lines: str | list[str]) -> None:
        if self.quiet:
            return
        from onnxproof.report._text import plain

        text = "\n".join([lines] if isinstance(lines, str) else lines)
        sys.stdout.write((text if self.color else plain(text)) + "\n")

    @staticmethod
    def error(message: str, hint: str | None = None) -> None:
        """One line (soft-wrapped by the terminal, never broken), and the hint on the next."""
        color = sys.stderr.isatty() and "NO_COLOR" not in os.environ
        head = "\x1b[1;31merror:\x1b[0m " if color else "error: "
        sys.stderr.write(f"{head}{' '.join(message.split())}\n")
        if hint:
            sys.stderr.write(f"  → {hint}\n")
        sys.stderr.flush()


def setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("onnxproof")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)


def handle_errors(func: F) -> F:
    """Run a command: OnnxproofError → one line and its exit code; a stop (signal, time limit)
    → what was running and its exit code; anything else → exit 3 as a bug.

    SIGINT and SIGTERM are turned into a stop for the whole command, not only its library call:
    one arriving while the reports or the terminal summary are written still ends with 130/143
    and the stopped line (reports go through temp files, so none is left half-written)."""
    from onnxproof._signals import Stopped, activity, install_for_command

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(kwargs.get("debug"))
        setup_logging(bool(kwargs.get("verbose")))
        if debug:
            # A lint rule that breaks on a file is skipped for users; under --debug it raises.
            os.environ["ONNXPROOF_STRICT_LINT"] = "1"
        try:
            with install_for_command():
                return func(*args, **kwargs)
        except OnnxproofError as exc:
            if debug:
                raise
            Sink.error(exc.message, exc.hint)
            sys.exit(exc.exit_code)
        except Stopped as exc:
            if debug:
                raise
            Sink.error(
                f"stopped ({exc.reason}) while {activity()}",
                "rerun with a longer --timeout" if exc.exit_code == 3 else None,
            )
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:
            if debug:
                raise
            if out_of_memory(exc):
                Sink.error(f"ran out of memory while {activity()}", MEMORY_HINT)
                sys.exit(3)  # could not judge: the machine, not the model or onnxproof
            first = str(exc).splitlines()[0] if str(exc) else ""
            Sink.error(
                f"internal error: {type(exc).__name__}: {first}",
                "this is a bug in onnxproof; rerun with --debug for the traceback and report it",
            )
            sys.exit(3)

    return wrapper  # type: ignore[return-value]


MEMORY_HINT = (
    "use smaller inputs (the dims in --input; with --data, a smaller --batch-size or "
    "--max-samples), or run where more memory is free"
)


def out_of_memory(exc: BaseException) -> bool:
    """Python's MemoryError (NumPy's included), or torch's allocator failing (a RuntimeError)."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    return isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc)


def common_options(func: F) -> F:
    for option in reversed(
        [
            click.option("--debug", is_flag=True, help="Show tracebacks for errors."),
            click.option(
                "-v",
                "--verbose",
                is_flag=True,
                help="Show the exporters' own output and info logs.",
            ),
            click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors."),
        ]
    ):
        func = option(func)
    return func


def write_json(record: Any, json_path: str) -> None:
    from onnxproof._signals import set_activity
    from onnxproof.report import write_json as write

    set_activity("writing the reports")

    write(record, json_path)
