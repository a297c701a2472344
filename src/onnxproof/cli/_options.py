"""The options the commands share, defined once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from onnxproof.engines import ENGINES

F = TypeVar("F", bound=Callable[..., Any])

EXPORTERS = ("auto", "dynamo", "torchscript")


def _apply(func: F, options: list[Callable[[F], F]]) -> F:
    for option in reversed(options):
        func = option(func)
    return func


_targets = click.option(
    "-t",
    "--target",
    "targets",
    multiple=True,
    metavar="NAME",
    help="Deployment target to lint for (repeatable): ort-cpu, ort-web, ort-mobile, tensorrt, openvino, coreml.",
)
_fail_on = click.option(
    "--fail-on",
    type=click.Choice(["error", "warning"]),
    default="error",
    show_default=True,
    help="Lowest finding severity that fails the command.",
)


_timeout = click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Stop the whole run after this long (exit 3, saying what was running).",
)


def _runtimes(help_text: str) -> Callable[[F], F]:
    return click.option(
        "-r", "--runtime", "runtimes", multiple=True, metavar="NAME", help=help_text
    )


def model_options(func: F) -> F:
    return _apply(
        func,
        [
            click.option(
                "-i",
                "--input",
                "inputs",
                multiple=True,
                metavar="SPEC",
                help="Input spec name:dtype[d0,d1,...]{low..high|mask|positions}; named after a forward parameter it binds by name, else by position; repeat per input.",
            ),
            click.option(
                "--weights",
                type=click.Path(),
                help="State dict (.pt/.pth/.safetensors) to load into the model.",
            ),
        ],
    )


def export_options(func: F) -> F:
    return _apply(
        func,
        [
            click.option(
                "-o", "--output", type=click.Path(), help="Where to write the .onnx file."
            ),
            click.option(
                "--exporter",
                type=click.Choice(EXPORTERS),
                default="auto",
                show_default=True,
                help="auto tries dynamo, then torchscript.",
            ),
            click.option(
                "--opset",
                type=click.IntRange(min=7),
                default=None,
                help="ONNX opset to ask for (default 18, lowered to the --target maximum; see README).",
            ),
        ],
    )


def tolerance_options(func: F) -> F:
    return _apply(
        func,
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
                "--tol",
                "tolerances",
                multiple=True,
                metavar="NAME=ATOL,RTOL",
                help="Tolerance for one output (repeatable).",
            ),
            click.option(
                "--seed",
                type=click.IntRange(min=0, max=2**32 - 1),
                default=0,
                show_default=True,
                help="Seed for generated inputs.",
            ),
            _fail_on,
        ],
    )


def run_options(func: F) -> F:
    """What run and verify share beyond tolerances: targets, localization, reports, limits."""
    return _apply(
        func,
        [
            _targets,
            _runtimes(
                "Runtime to verify on (repeatable; default ort-cpu). The first is the primary: "
                "data and localization run there."
            ),
            click.option(
                "--localize/--no-localize",
                default=None,
                help="Find the first PyTorch module whose output diverges (default: when an output fails).",
            ),
            click.option(
                "--json",
                "json_path",
                type=click.Path(),
                help="Write the JSON report here ('-' for stdout).",
            ),
            click.option(
                "--save-inputs",
                type=click.Path(file_okay=False),
                metavar="DIR",
                help="Save every generated case as DIR/case-NNN.npz (replay with --data DIR).",
            ),
            _timeout,
            click.option(
                "--html", "html_path", type=click.Path(), help="Write a self-contained HTML report."
            ),
            click.option(
                "--junit", "junit_path", type=click.Path(), help="Write JUnit XML for CI."
            ),
            click.option(
                "--markdown",
                "markdown_path",
                type=click.Path(),
                help="Write a Markdown summary ('-' for stdout; appends to $GITHUB_STEP_SUMMARY).",
            ),
            click.option(
                "--repro",
                type=click.Path(file_okay=False),
                metavar="DIR",
                help="Write a repro bundle to DIR (default: <output>.repro/ when parity fails).",
            ),
            click.option("--no-repro", is_flag=True, help="Never write a repro bundle."),
        ],
    )


def check_options(func: F) -> F:
    return _apply(func, [_targets, _fail_on])


def data_options(func: F) -> F:
    return _apply(
        func,
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
                type=click.Choice(
                    ["classification", "text-generation", "text-generation-with-past"]
                ),
                help="classification: also report top-1/top-5 agreement. "
                "text-generation-with-past: also export the step model with its key/value cache "
                "and compare greedy decoding.",
            ),
            click.option(
                "--steps",
                "generation_steps",
                type=click.IntRange(min=1),
                default=8,
                show_default=True,
                help="Tokens to decode with --task text-generation-with-past.",
            ),
            click.option(
                "--image-spec",
                metavar="SPEC",
                help="Image preprocessing: size=224x224,layout=NCHW,mean=a/b/c,std=a/b/c.",
            ),
            click.option(
                "--engine",
                type=click.Choice(ENGINES),
                default="local",
                show_default=True,
                help="Compare the data here, or on a Ray cluster (pip install 'onnxproof[ray]').",
            ),
            click.option(
                "--workers",
                type=click.IntRange(min=1),
                help="Ray workers (default: the cluster's CPUs).",
            ),
            click.option(
                "--ray-address",
                metavar="ADDR",
                help="Ray cluster to join (auto, ray://head:10001); default: start a local Ray.",
            ),
        ],
    )


def _batches(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        sizes = ()
    if not sizes or any(b < 1 for b in sizes):
        raise click.BadParameter(f"{value!r} is not a list of batch sizes like 1,8,32")
    return sizes


def bench_options(func: F) -> F:
    return _apply(
        func,
        [
            _runtimes(
                "Runtime to time (repeatable; default ort-cpu). Eager PyTorch is timed too when "
                "a model is given."
            ),
            click.option(
                "--batch",
                "batches",
                default="1",
                show_default=True,
                callback=_batches,
                metavar="N,N,...",
                help="Batch sizes (the dynamic dim at axis 0 of the first input).",
            ),
            click.option("--warmup", type=click.IntRange(min=0), default=3, show_default=True),
            click.option(
                "--iterations",
                type=click.IntRange(min=1),
                help="Timed calls per batch size (default: as many as fit in --budget).",
            ),
            click.option(
                "--budget",
                type=click.FloatRange(min=0, min_open=True),
                default=1.0,
                show_default=True,
                help="Seconds of timed calls per runtime and batch size.",
            ),
            click.option(
                "--threads",
                type=click.IntRange(min=1),
                help="Threads for torch and ONNX Runtime (default: theirs).",
            ),
            _timeout,
        ],
    )
