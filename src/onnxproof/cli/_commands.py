"""Commands: run, export, check, lint, verify, explain. Each is one library call and a render."""

from __future__ import annotations

import sys

import click

import onnxproof
from onnxproof.cli._applicable import check_applicable
from onnxproof.cli._common import (
    EXIT_CODES,
    Sink,
    common_options,
    handle_errors,
    write_json,
)
from onnxproof.cli._group import OnnxproofGroup
from onnxproof.cli._optimize import optimize as optimize_command
from onnxproof.cli._options import (
    bench_options,
    check_options,
    data_options,
    export_options,
    model_options,
    run_options,
    tolerance_options,
)
from onnxproof.cli._running import (
    DataProgress,
    check_paths_of,
    guarded,
    library_keywords,
    write_reports,
)
from onnxproof.cli._sweep import sweep as sweep_command


@click.group(cls=OnnxproofGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(onnxproof.__version__, prog_name="onnxproof")
def app() -> None:
    """Export a PyTorch model to ONNX and prove the file computes what the model computes.

    Exit codes: 0 passed · 1 the model failed a check · 2 bad usage or input · 3 could not judge.
    """


@app.command()
@click.argument("model", required=False)
@model_options
@export_options
@tolerance_options
@run_options
@data_options
@common_options
@handle_errors
def run(model, inputs, weights, json_path, quiet, timeout, **options):  # type: ignore[no-untyped-def]
    """Export MODEL, check the file and verify parity with ONNX Runtime.

    MODEL is path/to/file.py:Name, package.module:Name, a .pt2 program or a TorchScript archive;
    without it, the built-in example (the tutorial's SimpleNet) runs.
    """
    check_applicable(options, command="run")
    check_paths_of(model, {**options, "weights": weights, "json_path": json_path})
    sink = Sink(quiet=quiet or json_path == "-")
    progress = DataProgress(enabled=bool(options["data"]) and not quiet)
    with progress, guarded(timeout, json_to_stdout=json_path == "-"):
        report = onnxproof.run(
            model, inputs=inputs or None, weights=weights, **library_keywords(options, progress)
        )
    _finish(sink, report, json_path, options)


@app.command()
@click.argument("model")
@click.argument("onnx_file", type=click.Path())
@model_options
@tolerance_options
@run_options
@data_options
@common_options
@handle_errors
def verify(model, onnx_file, inputs, weights, json_path, quiet, timeout, **options):  # type: ignore[no-untyped-def]
    """Verify ONNX_FILE against MODEL in PyTorch on seeded inputs at several sizes."""
    check_applicable(options, command="verify")
    paths = {**options, "weights": weights, "json_path": json_path}
    check_paths_of(model, paths, reads=(onnx_file,))
    sink = Sink(quiet=quiet or json_path == "-")
    progress = DataProgress(enabled=bool(options["data"]) and not quiet)
    options.pop("verbose")
    with progress, guarded(timeout, json_to_stdout=json_path == "-"):
        report = onnxproof.verify(
            model,
            onnx_file,
            inputs=inputs or None,
            weights=weights,
            **library_keywords(options, progress),
        )
    _finish(sink, report, json_path, options)


@app.command()
@click.argument("model", required=False)
@model_options
@export_options
@common_options
@handle_errors
def export(model, inputs, weights, output, exporter, opset, verbose, quiet, debug):  # type: ignore[no-untyped-def]
    """Export MODEL to ONNX (eval mode, no_grad, dynamic dims as named in --input)."""
    from onnxproof.report import render_check, render_export
    from onnxproof.report.terminal import render_findings, render_verdict
    from onnxproof.results import status_from

    check_paths_of(model, {"weights": weights, "output": output})
    sink = Sink(quiet=quiet)
    with guarded(None):
        result = onnxproof.export(
            model,
            inputs=inputs or None,
            output=output,
            weights=weights,
            exporter=exporter,
            opset=opset,
            verbose=verbose,
        )
    assert result.onnx_path is not None  # export() raises when nothing was written
    report = onnxproof.check(result.onnx_path)
    # The export's findings (traced control flow, an opset above the one asked for) and the
    # file's (a random op, float64) decide the exit code with the checker.
    findings = (*result.findings, *report.findings)
    status = status_from(findings, checks_passed=report.passed)
    sink.show(
        render_export(result) + render_check(report) + render_findings(findings)
        + render_verdict(status)
    )  # fmt: skip
    sys.exit(EXIT_CODES[status])


@app.command()
@click.argument("onnx_file", type=click.Path())
@click.option("--json", "json_path", type=click.Path(), help="Write the check report as JSON.")
@check_options
@common_options
@handle_errors
def check(onnx_file, json_path, targets, fail_on, verbose, quiet, debug):  # type: ignore[no-untyped-def]
    """Run onnx.checker, shape inference and the lint rules on ONNX_FILE. Never imports torch."""
    from onnxproof.report import render_check
    from onnxproof.report.terminal import render_findings, render_verdict

    check_paths_of(None, {"json_path": json_path}, reads=(onnx_file,))
    sink = Sink(quiet=quiet or json_path == "-")
    report = onnxproof.check(onnx_file, targets=targets, fail_on=fail_on)
    if json_path:
        write_json(report, json_path)
    sink.show(
        render_check(report) + render_findings(report.findings) + render_verdict(report.status)
    )
    sys.exit(EXIT_CODES[report.status])


@app.command()
@click.argument("onnx_file", type=click.Path())
@check_options
@common_options
@handle_errors
def lint(onnx_file, targets, fail_on, verbose, quiet, debug):  # type: ignore[no-untyped-def]
    """List the findings for ONNX_FILE (per --target). Never imports torch."""
    from onnxproof.report.terminal import render_findings, render_verdict

    sink = Sink(quiet=quiet)
    report = onnxproof.check(onnx_file, targets=targets, fail_on=fail_on)
    if not report.passed:
        sink.show(f"the file fails onnx.checker: {report.checker_error}")
    sink.show((render_findings(report.findings) or ["no findings"]) + render_verdict(report.status))
    sys.exit(EXIT_CODES[report.status])


@app.command()
@click.argument("code", required=False)
@handle_errors
def explain(code: str | None) -> None:
    """Print what finding CODE means and how to fix it; without CODE, list the codes."""
    from onnxproof.errors import UsageError
    from onnxproof.linting.codes import CODES
    from onnxproof.report.terminal import render_code

    sink = Sink()
    if code is None:
        for entry in CODES.values():
            sink.show(f"{entry.code:<26} {entry.severity.value:<8} {entry.summary}")
        return
    if code not in CODES:
        raise UsageError(
            f"unknown finding code {code!r}", hint="`onnxproof explain` lists the codes"
        )
    sink.show(render_code(CODES[code]))


@app.command()
@click.argument("target")
@click.argument("onnx_file", required=False, type=click.Path())
@model_options
@bench_options
@click.option(
    "--json", "json_path", type=click.Path(), help="Write the JSON report ('-' for stdout)."
)
@common_options
@handle_errors
def bench(target, onnx_file, inputs, weights, json_path, quiet, verbose, debug, **options):  # type: ignore[no-untyped-def]
    """Latency of each --runtime (and eager PyTorch) per --batch, each runtime verified first.

    TARGET is a model (as for run) or an .onnx file; with a model, ONNX_FILE is verified and
    timed instead of a fresh export. With only an .onnx file nothing can be verified.
    """
    from onnxproof.options import BenchOptions
    from onnxproof.report.bench import render_bench

    sink = Sink(quiet=quiet or json_path == "-")
    model, path = (None, target) if target.endswith(".onnx") else (target, onnx_file)
    check_paths_of(model, {"weights": weights, "json_path": json_path}, reads=(path,))
    settings = BenchOptions(
        runtimes=tuple(options["runtimes"]) or ("ort-cpu",),
        batches=options["batches"],
        warmup=options["warmup"],
        iterations=options["iterations"],
        budget_s=options["budget"],
        threads=options["threads"],
    )
    with guarded(options["timeout"], json_to_stdout=json_path == "-"):
        report = onnxproof.bench(
            model, path, inputs=inputs or None, weights=weights, options=settings
        )
    if json_path:
        write_json(report, json_path)
    sink.show(render_bench(report))
    failed = report.verification is not None and report.verification.status != "pass"
    sys.exit(1 if failed else 0)


@app.command("setup-runtimes")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    help="Where the npm packages go (default: ~/.cache/onnxproof/js).",
)
@common_options
@handle_errors
def setup_runtimes(cache_dir, verbose, quiet, debug):  # type: ignore[no-untyped-def]
    """Install the pinned npm packages the ort-node and ort-web runtimes run on.

    Says exactly what it installs and where; nothing is downloaded at run time. ort-web also
    needs Debian's chromium (apt-get install chromium).
    """
    from pathlib import Path

    from onnxproof.runtimes.js_setup import setup_js_runtimes

    sink = Sink(quiet=quiet)
    setup_js_runtimes(Path(cache_dir) if cache_dir else None, log=sink.show)


def _finish(sink: Sink, report: onnxproof.RunReport, json_path: str | None, options: dict) -> None:
    from onnxproof.report import render_run

    if json_path:
        write_json(report, json_path)
    write_reports(report, options)
    sink.show(render_run(report))
    sys.exit(EXIT_CODES[report.status])


app.add_command(sweep_command)
app.add_command(optimize_command)


def main() -> None:
    """The console script: run the command, then leave without the interpreter's teardown."""
    from onnxproof.cli._exit import leave

    try:
        app()
    except SystemExit as exc:
        leave(exc.code)
