"""Shared CLI pieces: the output sink, the options every command takes, error → exit code."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.text import Text

from onnxproof.errors import InternalError, OnnxproofError

F = TypeVar("F", bound=Callable[..., Any])


class Sink:
    """Data to stdout, diagnostics to stderr; plain when not a TTY or NO_COLOR is set."""

    def __init__(self, quiet: bool = False) -> None:
        plain = "NO_COLOR" in os.environ
        # Piped output keeps whole lines (rich would wrap at 80 columns).
        width = None if sys.stdout.isatty() else 120
        self.out = Console(no_color=plain, highlight=False, width=width)
        # An error is one line however narrow the terminal: soft wrap, no hard breaks.
        self.err = Console(stderr=True, no_color=plain, highlight=False, soft_wrap=True)
        self.quiet = quiet

    def show(self, renderable: Any) -> None:
        if not self.quiet:
            self.out.print(renderable)

    def error(self, message: str, hint: str | None = None) -> None:
        self.err.print(Text("error: ", style="bold red") + Text(message))
        if hint:
            self.err.print(Text(f"  → {hint}", style="dim"))


def setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("onnxproof")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)


def handle_errors(func: F) -> F:
    """Run a command: OnnxproofError → one line and its exit code; anything else → exit 3."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(kwargs.get("debug"))
        sink = Sink()
        try:
            return func(*args, **kwargs)
        except OnnxproofError as exc:
            if debug:
                raise
            sink.error(exc.message, exc.hint)
            sys.exit(exc.exit_code)
        except (InternalError, Exception) as exc:
            if debug or isinstance(exc, click.exceptions.Exit | click.ClickException | SystemExit):
                raise
            sink.error(
                f"internal error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                "this is a bug in onnxproof; rerun with --debug for the traceback and report it",
            )
            sys.exit(3)

    return wrapper  # type: ignore[return-value]


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


def model_options(func: F) -> F:
    for option in reversed(
        [
            click.option(
                "-i",
                "--input",
                "inputs",
                multiple=True,
                metavar="SPEC",
                help="Input spec name:dtype[d0,d1,...]{low..high}, in forward-argument order; repeat per input.",
            ),
            click.option(
                "--weights",
                type=click.Path(),
                help="State dict (.pt/.pth/.safetensors) to load into the model.",
            ),
        ]
    ):
        func = option(func)
    return func


def tolerance_options(func: F) -> F:
    for option in reversed(
        [
            click.option(
                "--atol",
                type=float,
                help="Absolute tolerance for float outputs (default per dtype).",
            ),
            click.option(
                "--rtol",
                type=float,
                help="Relative tolerance for float outputs (default per dtype).",
            ),
            click.option(
                "--seed", type=int, default=0, show_default=True, help="Seed for generated inputs."
            ),
            click.option(
                "--fail-on",
                type=click.Choice(["error", "warning"]),
                default="error",
                show_default=True,
                help="Lowest finding severity that fails the run.",
            ),
            click.option(
                "--json",
                "json_path",
                type=click.Path(),
                help="Write the JSON report here ('-' for stdout).",
            ),
        ]
    ):
        func = option(func)
    return func


def parse_tolerances(values: tuple[str, ...]) -> dict[str, tuple[float, float]]:
    """``--tol NAME=ATOL,RTOL`` (repeatable) → {name: (atol, rtol)}."""
    from onnxproof.errors import InputSpecError

    result: dict[str, tuple[float, float]] = {}
    for text in values:
        name, _, numbers = text.partition("=")
        parts = numbers.split(",")
        try:
            atol, rtol = (float(p) for p in parts) if len(parts) == 2 else (None, None)
        except ValueError:
            atol = rtol = None
        if not name or atol is None or rtol is None:
            raise InputSpecError(
                f"--tol {text!r} is not NAME=ATOL,RTOL", hint="for example --tol logits=1e-3,1e-2"
            )
        result[name] = (atol, rtol)
    return result


def data_options(func: F) -> F:
    for option in reversed(
        [
            click.option(
                "--data",
                type=click.Path(),
                help="Representative data: .npz, .npy, .pt, or a folder of arrays or images.",
            ),
            click.option(
                "--batch-size",
                type=click.IntRange(min=1),
                default=32,
                show_default=True,
                help="Samples per batch.",
            ),
            click.option(
                "--max-samples",
                type=click.IntRange(min=1),
                help="Verify at most this many samples.",
            ),
            click.option(
                "--task",
                type=click.Choice(["classification"]),
                help="Also report top-1/top-5 agreement.",
            ),
            click.option(
                "--image-spec",
                metavar="SPEC",
                help="Image preprocessing: size=224x224,layout=NCHW,mean=a/b/c,std=a/b/c.",
            ),
            click.option(
                "--tol",
                "tolerances",
                multiple=True,
                metavar="NAME=ATOL,RTOL",
                help="Tolerance for one output (repeatable).",
            ),
        ]
    ):
        func = option(func)
    return func


class DataProgress:
    """A progress bar over samples while data is verified (only on a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self._progress = None
        if enabled and sys.stderr.isatty():
            from rich.progress import Progress

            self._progress = Progress(console=Console(stderr=True), transient=True)
            self._task = self._progress.add_task("verifying data", total=None)

    def __enter__(self) -> DataProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, samples: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, samples)
