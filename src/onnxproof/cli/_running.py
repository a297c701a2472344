"""What a long command needs around its one library call: signals, a time limit, a clean stdout
for ``--json -``, and a progress bar over the data."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from onnxproof.errors import UsageError


@contextlib.contextmanager
def guarded(timeout: float | None, *, json_to_stdout: bool = False) -> Iterator[None]:
    """SIGINT/SIGTERM and ``--timeout`` stop the run; with ``--json -`` whatever the model or an
    exporter prints goes to stderr, so stdout holds the JSON alone."""
    from onnxproof._signals import install

    undo = install(timeout)
    try:
        with _stdout_to_stderr() if json_to_stdout else contextlib.nullcontext():
            yield
    finally:
        undo()


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no real stdout (an embedding host): Python's level is enough
        with contextlib.redirect_stdout(sys.stderr):
            yield
        return
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 1)
        os.close(saved)


def library_keywords(options: dict[str, Any], progress: Any) -> dict[str, Any]:
    """The command's options as the library's keywords."""
    from onnxproof.verification.tolerance import check_tolerance

    reports = ("debug", "html_path", "junit_path", "markdown_path", "no_repro")
    keywords = {k: v for k, v in options.items() if k not in reports}
    keywords["repro"] = False if options.get("no_repro") else options.get("repro")
    check_tolerance(keywords.get("atol"), keywords.get("rtol"), "--atol/--rtol")
    keywords["tolerances"] = parse_tolerances(keywords.pop("tolerances", ()))
    keywords["targets"] = tuple(keywords.get("targets", ()))
    if not keywords.get("runtimes"):
        keywords.pop("runtimes", None)  # the library's default
    keywords["progress"] = progress if keywords.get("data") else None
    return keywords


def parse_tolerances(values: tuple[str, ...]) -> dict[str, tuple[float, float]]:
    """``--tol NAME=ATOL,RTOL`` (repeatable) → {name: (atol, rtol)}."""
    from onnxproof.verification.tolerance import check_tolerance

    result: dict[str, tuple[float, float]] = {}
    for text in values:
        name, _, numbers = text.partition("=")
        parts = numbers.split(",")
        try:
            atol, rtol = (float(p) for p in parts) if len(parts) == 2 else (None, None)
        except ValueError:
            atol = rtol = None
        if not name or atol is None or rtol is None:
            raise UsageError(
                f"--tol {text!r} is not NAME=ATOL,RTOL", hint="for example --tol logits=1e-3,1e-2"
            )
        check_tolerance(atol, rtol, f"--tol {name}")
        result[name] = (atol, rtol)
    return result


class DataProgress:
    """Samples done / total, rate and time left while data is verified (only on a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self._progress: Any = None
        self._task: Any = None
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("verifying data"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._task = self._progress.add_task("data", total=None, rate="")

    def __enter__(self) -> DataProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, samples: int, total: int | None = None) -> None:
        if self._progress is None:
            return
        self._progress.update(self._task, advance=samples, total=total)
        speed = self._progress.tasks[0].speed
        rate = f"{speed:,.0f} samples/s" if speed else ""
        self._progress.update(self._task, rate=rate)


def write_reports(report: Any, options: dict[str, Any]) -> None:
    """The shareable reports asked for: HTML, JUnit XML, Markdown."""
    from onnxproof._signals import set_activity

    set_activity("writing the reports")
    if options.get("html_path"):
        from onnxproof.report.html import write_html

        write_html(report, options["html_path"])
    if options.get("junit_path"):
        from onnxproof.report.junit import write_junit

        write_junit(report, options["junit_path"])
    target = options.get("markdown_path")
    if target:
        from onnxproof.report.markdown import write_markdown

        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        write_markdown(report, target, append=bool(summary) and target == summary)


def check_paths_of(
    model: str | None, options: dict[str, Any], *, reads: tuple[str | None, ...] = ()
) -> None:
    """Refuse, before any work, an output that is an input or another output (exit 2)."""
    from onnxproof.outputs import check_paths, reference_files

    data = options.get("data")
    inputs = [*reference_files(model), options.get("weights"), data, *reads]
    outputs = {
        "--json": options.get("json_path"),
        "--html": options.get("html_path"),
        "--junit": options.get("junit_path"),
        "--markdown": options.get("markdown_path"),
    }
    if "output" in options:  # the commands that export
        from onnxproof.pipeline._export import output_path

        outputs["-o"] = str(output_path(options["output"], model or "builtin:SimpleNet"))
    check_paths(inputs=inputs, outputs=outputs, onnx_output="-o" if "-o" in outputs else None)
    if options.get("save_inputs"):
        from onnxproof.data.replay import check_save_target

        check_save_target(options["save_inputs"], data=data, outputs=list(outputs.values()))
