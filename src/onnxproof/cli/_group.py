"""The command group: click's usage errors as the CLI's one-line errors.

click prints a usage error as three lines (``Usage: …``, ``Try … for help.``, ``Error: …``); every
other error of onnxproof is one line and a hint, so a bad option reads the same as a bad input.
"""

from __future__ import annotations

from typing import IO, Any

import click

from onnxproof.cli._common import Sink


class OneLineUsageError(click.UsageError):
    """A click usage error shown as ``error: …`` and a hint naming the command's --help."""

    def show(self, file: IO[Any] | None = None) -> None:
        path = self.ctx.command_path if self.ctx is not None else "onnxproof"
        Sink.error(self.format_message(), f"see '{path} --help'")


#: click >= 8.2 shows the help for a group called without arguments by raising this usage error.
_HELP_ERRORS: tuple[type[click.UsageError], ...] = tuple(
    getattr(click.exceptions, name)
    for name in ("NoArgsIsHelpError",)
    if hasattr(click.exceptions, name)
)


def _one_line(exc: click.UsageError) -> click.UsageError:
    if isinstance(exc, (OneLineUsageError, *_HELP_ERRORS)):
        return exc  # the help text asked for by giving no arguments stays the help text
    return OneLineUsageError(exc.format_message(), exc.ctx)


class OnnxproofGroup(click.Group):
    """A click group whose usage errors (its own and its commands') are one line, exit code 2."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            raise _one_line(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        # The commands' own arguments are parsed here, in each command's make_context.
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _one_line(exc) from None
