"""One small exception hierarchy; the CLI maps each type to an exit code and a one-line message."""

from __future__ import annotations


class OnnxproofError(Exception):
    """A problem the user can act on. ``hint`` says what to do next."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} — {self.hint}"


class UsageError(OnnxproofError):
    """The command line asks for something that cannot be done as given (e.g. clashing paths)."""


class ModelLoadError(OnnxproofError):
    """The model reference could not be turned into an nn.Module."""


class InputSpecError(OnnxproofError):
    """An input spec is malformed, or the model rejects the shape it describes."""


class DataError(OnnxproofError):
    """Input data (a file or an iterable) does not fit the model's inputs."""


class ExportError(OnnxproofError):
    """Every export strategy failed: the model cannot be exported as asked."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, attempts: tuple = ()) -> None:
        super().__init__(message, hint=hint)
        #: The ExportAttempt records of every strategy tried.
        self.attempts = attempts


class CheckError(OnnxproofError):
    """The ONNX file is not valid (checker or shape inference failed)."""

    exit_code = 1


class RuntimeUnavailable(OnnxproofError):
    """A runtime needed for a verdict is not installed or cannot start."""

    exit_code = 3


class InternalError(Exception):
    """A bug in onnxproof, not a user error."""

    exit_code = 3
