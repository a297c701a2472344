"""``onnxproof sweep zoo.toml``: every model of a zoo through ``run``, each in its own process."""

from __future__ import annotations

import sys

import click

from onnxproof.cli._common import Sink, common_options, handle_errors
from onnxproof.engines import ENGINES


@click.command()
@click.argument("zoo", type=click.Path())
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="local",
    show_default=True,
    help="local: a pool of processes here; ray: one Ray task per model (pip install 'onnxproof[ray]').",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    help="Models run at once (default: the CPU count, at most 4).",
)
@click.option("--force", is_flag=True, help="Run every model, even those cached as passing.")
@click.option(
    "-o",
    "--output",
    "outdir",
    type=click.Path(file_okay=False),
    metavar="OUTDIR",
    help="Folder of the reports, OUTDIR/NAME/report.json (default: onnxproof-sweep/ beside ZOO).",
)
@click.option(
    "--junit", "junit_path", type=click.Path(), help="Write JUnit XML, one suite per model."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Each model's time limit unless its table sets one (default 900).",
)
@common_options
@handle_errors
def sweep(zoo, engine, jobs, force, outdir, junit_path, timeout, verbose, quiet, debug):  # type: ignore[no-untyped-def]
    """Run every model of ZOO (a zoo.toml of [[model]] tables) and show one table.

    Each model is `onnxproof run` in its own process: a crash or a hang is a row, not the end.
    Models unchanged since a passing report are reused (--force runs them). Exit code: 0 all
    passed, 1 any failed, erred, crashed or timed out, 2 a bad zoo file (nothing is run).
    """
    from onnxproof.cli._running import guarded
    from onnxproof.outputs import check_paths
    from onnxproof.report.sweep import render_sweep, write_sweep_junit
    from onnxproof.sweeping import sweep as run_sweep

    check_paths(inputs=(zoo,), outputs={"--junit": junit_path})
    sink = Sink(quiet=quiet)

    def progress(row):  # type: ignore[no-untyped-def]
        if not quiet:
            sys.stderr.write(f"  {row.name}: {row.shown_verdict}\n")
            sys.stderr.flush()

    # SIGINT/SIGTERM become an exception here, so the runs still going are killed with their
    # process groups instead of outliving the sweep.
    with guarded(None):
        report = run_sweep(
            zoo,
            engine=engine,
            jobs=jobs,
            force=force,
            outdir=outdir,
            timeout=timeout,
            on_result=progress,
        )
    if junit_path:
        write_sweep_junit(report, junit_path)
    sink.show(render_sweep(report))
    sys.exit(0 if report.status == "pass" else 1)
