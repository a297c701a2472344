"""Commands: run, export, check, verify. Each is one library call and a render."""

from __future__ import annotations

import sys

import click

import onnxproof
from onnxproof.cli._common import (
    DataProgress,
    Sink,
    common_options,
    data_options,
    handle_errors,
    model_options,
    parse_tolerances,
    setup_logging,
    tolerance_options,
)
from onnxproof.errors import ExportError, InputSpecError
from onnxproof.results import Finding, RunReport, status_from
from onnxproof.specs import Severity

EXPORTERS = ("auto", "dynamo", "torchscript")

localize_option = click.option(
    "--localize/--no-localize",
    default=None,
    help="Find the first PyTorch module whose output diverges (default: when an output fails).",
)
target_option = click.option(
    "-t",
    "--target",
    "targets",
    multiple=True,
    metavar="NAME",
    help="Deployment target to lint for (repeatable): ort-cpu, ort-web, ort-mobile, tensorrt, openvino, coreml.",
)


def export_options(func):  # type: ignore[no-untyped-def]
    func = click.option(
        "--opset",
        type=int,
        default=None,
        help="ONNX opset to ask for (default 18, lowered to the --target maximum; see README).",
    )(func)
    func = click.option(
        "--exporter",
        type=click.Choice(EXPORTERS),
        default="auto",
        show_default=True,
        help="auto tries dynamo, then torchscript.",
    )(func)
    return click.option("-o", "--output", type=click.Path(), help="Where to write the .onnx file.")(
        func
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
@target_option
@localize_option
@data_options
@common_options
@handle_errors
def run(
    model,
    inputs,
    weights,
    output,
    exporter,
    opset,
    atol,
    rtol,
    seed,
    fail_on,
    json_path,
    targets,
    localize,
    data,
    batch_size,
    max_samples,
    task,
    image_spec,
    tolerances,
    verbose,
    quiet,
    debug,
):  # type: ignore[no-untyped-def]
    """Export MODEL, check the file and verify parity with ONNX Runtime.

    MODEL is path/to/file.py:Name, package.module:Name, a .pt2 program or a TorchScript archive;
    without it, the built-in example (the tutorial's SimpleNet) runs.
    """
    setup_logging(verbose)
    sink = Sink(quiet=quiet or json_path == "-")
    progress = DataProgress(enabled=bool(data) and not quiet)
    try:
        with progress:
            report = onnxproof.run(
                model,
                inputs=inputs or None,
                output=output,
                weights=weights,
                exporter=exporter,
                opset=opset,
                atol=atol,
                rtol=rtol,
                seed=seed,
                fail_on=fail_on,
                targets=targets,
                localize=localize,
                **_data_kwargs(
                    data, batch_size, max_samples, task, image_spec, tolerances, progress
                ),
                verbose=verbose,
            )
    except ExportError as exc:
        if json_path:
            _write(_failed_export_report(model, exc), json_path)
        raise
    _finish(sink, report, json_path)


@app.command()
@click.argument("model", required=False)
@model_options
@export_options
@common_options
@handle_errors
def export(model, inputs, weights, output, exporter, opset, verbose, quiet, debug):  # type: ignore[no-untyped-def]
    """Export MODEL to ONNX (eval mode, no_grad, dynamic dims as named in --input)."""
    from onnxproof.report import render_check, render_export

    setup_logging(verbose)
    sink = Sink(quiet=quiet)
    result = onnxproof.export(
        model,
        inputs=inputs or None,
        output=output,
        weights=weights,
        exporter=exporter,
        opset=opset,
        verbose=verbose,
    )
    check = onnxproof.check(result.onnx_path)
    for part in render_export(result) + render_check(check):
        sink.show(part)
    sys.exit(0 if check.passed else 1)


fail_on_option = click.option(
    "--fail-on",
    type=click.Choice(["error", "warning"]),
    default="error",
    show_default=True,
    help="Lowest finding severity that fails the command.",
)


@app.command()
@click.argument("onnx_file", type=click.Path())
@click.option("--json", "json_path", type=click.Path(), help="Write the check report as JSON.")
@target_option
@fail_on_option
@common_options
@handle_errors
def check(onnx_file, json_path, targets, fail_on, verbose, quiet, debug):  # type: ignore[no-untyped-def]
    """Run onnx.checker, shape inference and the lint rules on ONNX_FILE. Never imports torch."""
    from onnxproof.report import render_check
    from onnxproof.report.terminal import render_findings

    setup_logging(verbose)
    sink = Sink(quiet=quiet or json_path == "-")
    report = onnxproof.check(onnx_file, targets=targets)
    if json_path:
        _write(report, json_path)
    for part in render_check(report) + render_findings(report.findings):
        sink.show(part)
    ok = (
        report.passed
        and status_from(report.findings, checks_passed=True, fail_on=Severity(fail_on)) == "pass"
    )
    sys.exit(0 if ok else 1)


@app.command()
@click.argument("onnx_file", type=click.Path())
@target_option
@fail_on_option
@common_options
@handle_errors
def lint(onnx_file, targets, fail_on, verbose, quiet, debug):  # type: ignore[no-untyped-def]
    """List the findings for ONNX_FILE (per --target). Never imports torch."""
    from rich.text import Text

    from onnxproof.report.terminal import render_findings

    setup_logging(verbose)
    sink = Sink(quiet=quiet)
    findings = onnxproof.lint(onnx_file, targets=targets)
    for part in render_findings(findings) or [Text("no findings")]:
        sink.show(part)
    sys.exit(
        0 if status_from(findings, checks_passed=True, fail_on=Severity(fail_on)) == "pass" else 1
    )


@app.command()
@click.argument("code", required=False)
@handle_errors
def explain(code: str | None) -> None:
    """Print what finding CODE means and how to fix it; without CODE, list the codes."""
    from onnxproof.linting.codes import CODES
    from onnxproof.report.terminal import render_code

    sink = Sink()
    if code is None:
        for entry in CODES.values():
            sink.show(f"{entry.code:<26} {entry.severity.value:<8} {entry.summary}")
        return
    if code not in CODES:
        raise InputSpecError(
            f"unknown finding code {code!r}", hint="`onnxproof explain` lists the codes"
        )
    sink.show(render_code(CODES[code]))


@app.command()
@click.argument("model")
@click.argument("onnx_file", type=click.Path())
@model_options
@tolerance_options
@target_option
@localize_option
@data_options
@common_options
@handle_errors
def verify(  # type: ignore[no-untyped-def]
    model,
    onnx_file,
    inputs,
    weights,
    atol,
    rtol,
    seed,
    fail_on,
    json_path,
    targets,
    localize,
    data,
    batch_size,
    max_samples,
    task,
    image_spec,
    tolerances,
    verbose,
    quiet,
    debug,
):
    """Verify ONNX_FILE against MODEL in PyTorch on seeded inputs at several sizes."""
    setup_logging(verbose)
    sink = Sink(quiet=quiet or json_path == "-")
    progress = DataProgress(enabled=bool(data) and not quiet)
    with progress:
        report = onnxproof.verify(
            model,
            onnx_file,
            inputs=inputs or None,
            weights=weights,
            atol=atol,
            rtol=rtol,
            seed=seed,
            fail_on=fail_on,
            targets=targets,
            localize=localize,
            **_data_kwargs(data, batch_size, max_samples, task, image_spec, tolerances, progress),
        )
    _finish(sink, report, json_path)


def _data_kwargs(data, batch_size, max_samples, task, image_spec, tolerances, progress):  # type: ignore[no-untyped-def]
    return {
        "data": data,
        "batch_size": batch_size,
        "max_samples": max_samples,
        "task": task,
        "image_spec": image_spec,
        "tolerances": parse_tolerances(tolerances),
        "progress": progress if data else None,
    }


def _finish(sink: Sink, report: RunReport, json_path: str | None) -> None:
    from onnxproof.report import render_run

    if json_path:
        _write(report, json_path)
    sink.show(render_run(report))
    sys.exit({"pass": 0, "fail": 1}.get(report.status, 3))


def _write(record, json_path: str) -> None:  # type: ignore[no-untyped-def]
    from onnxproof.report import write_json

    write_json(record, json_path)


def _failed_export_report(model: str | None, exc: ExportError) -> RunReport:
    from onnxproof.linting.codes import CODES

    info = CODES["export-failed"]
    finding = Finding(
        code=info.code, severity=info.severity, message=exc.message, hint=exc.hint or info.fix
    )
    return RunReport(
        status="fail",
        model=model or "builtin:SimpleNet",
        onnx_path=None,
        exporter=None,
        export_attempts=getattr(exc, "attempts", ()),
        opset=None,
        opset_requested=None,
        inputs=(),
        outputs=(),
        findings=(finding,),
        verification=None,
        check=None,
    )


def main() -> None:
    app()
