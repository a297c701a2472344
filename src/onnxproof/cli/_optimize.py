"""``onnxproof optimize``: variants of a float ONNX file, only the ones that pass written."""

from __future__ import annotations

import sys

import click

from onnxproof.cli._applicable import check_applicable
from onnxproof.cli._common import Sink, common_options, handle_errors, write_json
from onnxproof.cli._options import data_options, model_options
from onnxproof.cli._running import check_paths_of, guarded


@click.command()
@click.argument("target")
@click.argument("onnx_file", required=False, type=click.Path())
@model_options
@data_options
@click.option(
    "--variant",
    "variants",
    multiple=True,
    metavar="NAME",
    help="Variant to make (repeatable): ort-basic, ort-extended, ort-all, slim, fp16, "
    "int8-dynamic, int8-static. Default: ort-extended, slim, fp16, int8-dynamic, int8-static.",
)
@click.option(
    "--calib-data",
    type=click.Path(),
    help="Calibration data for int8-static (default: the first half of --data; the rest "
    "evaluates).",
)
@click.option(
    "--calibration",
    type=click.Choice(["minmax", "entropy", "percentile"]),
    default="minmax",
    show_default=True,
    help="How int8-static picks activation ranges.",
)
@click.option(
    "--gate",
    "gates",
    multiple=True,
    metavar="METRIC=VALUE",
    help="Gate override (repeatable): top1=0.99 (with --task classification), cosine=0.999, "
    "rel_l2=0.05.",
)
@click.option(
    "--max-rounds",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Retries of a failing fp16/int8 variant, each with the node that broke it kept in float.",
)
@click.option(
    "--latency-budget",
    type=click.FloatRange(min=0, min_open=True),
    default=0.5,
    show_default=True,
    metavar="SECONDS",
    help="Timed runs per variant on ort-cpu.",
)
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False),
    help="Folder for the passing variants (default: <file stem>.optimized beside the file).",
)
@click.option(
    "--json", "json_path", type=click.Path(), help="Write the JSON report ('-' for stdout)."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Stop the whole run after this long (exit 3, saying what was running).",
)
@common_options
@handle_errors
def optimize(target, onnx_file, inputs, weights, json_path, quiet, verbose, debug, **options):  # type: ignore[no-untyped-def]
    """Make smaller/faster variants of a float ONNX file and prove each is still right.

    TARGET is the float .onnx file (then it is the reference, on ort-cpu), or a model (as for
    run) followed by ONNX_FILE (then eager PyTorch is the reference). Each variant is verified
    on evaluation samples it was not calibrated on and gated (top-1 agreement for
    --task classification, cosine and relative L2 otherwise); only the variants that pass are
    written. Exit 0: at least one passed and was written; 1: none passed; 2: bad input.
    """
    from pathlib import Path

    import onnxproof
    from onnxproof.errors import UsageError
    from onnxproof.optimizing import DEFAULT_VARIANTS, OptimizeOptions, parse_gate
    from onnxproof.report.optimize import render_optimize

    if onnx_file is None and not target.endswith(".onnx"):
        raise UsageError(
            f"{target} is not an .onnx file and no ONNX_FILE was given",
            hint="onnxproof optimize [MODEL] model.onnx",
        )
    check_applicable(options, command="optimize")
    model, path = (None, target) if onnx_file is None else (target, onnx_file)
    output_dir = options["output_dir"] or str(Path(path).with_suffix("")) + ".optimized"
    check_paths_of(
        model,
        {"json_path": json_path, "data": options["data"], "weights": weights},
        reads=(path, options["calib_data"]),
    )
    settings = OptimizeOptions(
        variants=tuple(options["variants"]) or DEFAULT_VARIANTS,
        output_dir=output_dir,
        task=options["task"],
        gate=parse_gate(tuple(options["gates"])),
        calibration=options["calibration"],
        max_rounds=options["max_rounds"],
        latency_budget_s=options["latency_budget"],
    )
    sink = Sink(quiet=quiet or json_path == "-")
    with guarded(options["timeout"], json_to_stdout=json_path == "-"):
        report = onnxproof.optimize(
            model,
            path,
            inputs=inputs or None,
            weights=weights,
            data=options["data"],
            calib_data=options["calib_data"],
            batch_size=options["batch_size"],
            max_samples=options["max_samples"],
            image_spec=options["image_spec"],
            options=settings,
        )
    if json_path:
        write_json(report, json_path)
    sink.show(render_optimize(report))
    sys.exit(0 if report.passed else 1)
