"""The repro bundle: the file, the failing inputs and PyTorch's outputs, and a script that shows
the same difference with numpy and onnxruntime alone."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from onnxproof.errors import UsageError
from onnxproof.pipeline._context import RunContext

log = logging.getLogger(__name__)


def bundle_folder(ctx: RunContext) -> Path | None:
    """Where the bundle goes: ``repro`` when given; ``<file>.repro`` when parity failed (unless
    ``repro=False``); nowhere otherwise."""
    asked = ctx.verify_options.repro
    if asked is False or ctx.onnx_path is None:
        return None
    if asked not in (None, True):
        return Path(str(asked))
    failed = any(ctx.steps.get(n) and ctx.steps[n].state == "fail" for n in ("parity", "data"))
    return Path(f"{ctx.onnx_path}.repro") if failed or asked is True else None


def repro_step(ctx: RunContext, sessions: Any) -> None:
    """Write the bundle when asked or when parity failed; its path goes into the report."""
    from onnxproof.data import synthetic_cases
    from onnxproof.report.repro import write_repro_bundle

    folder = bundle_folder(ctx)
    if folder is None or ctx.parity is None or ctx.onnx_path is None:
        return
    failing = [
        c.index for c in ctx.parity.cases if c.failed_outputs or (c.error and not c.skipped)
    ][:3]
    cases: list[tuple[str, Any, Any]] = []
    with ctx.timed("repro", "writing the repro bundle"):
        generated = synthetic_cases(ctx.specs, seed=ctx.verify_options.seed, sizes=ctx.case_sizes)
        for case in generated:
            if case.index in (failing or [0]):
                sizes = ", ".join(f"{k}={v}" for k, v in case.sizes.items()) or "static"
                label = f"case {case.index} ({sizes}, {case.draw})"
                cases.append((label, case.feeds, sessions.reference.infer(case.feeds)))
        if -1 in failing:  # the fully masked row (pipeline._masked), made again from the seed
            from onnxproof.verification.masked_rows import masked_row_case

            masked = masked_row_case(ctx.specs, ctx.verify_options.seed)
            if masked is not None:
                label = f"the case with a fully masked row ({masked.draw})"
                cases.append((label, masked.feeds, sessions.reference.infer(masked.feeds)))
        if not failing and ctx.dataset is not None and ctx.dataset.failing_batch is not None:
            batch = ctx.dataset.failing_batch
            cases = [
                ("the first data batch that disagreed", batch, sessions.reference.infer(batch))
            ]
        expected = cases[0][2] if cases else {}
        tolerances = {n: ctx.policy.for_output(n, str(v.dtype)) for n, v in expected.items()}
        try:
            path = write_repro_bundle(
                folder,
                onnx_path=ctx.onnx_path,
                cases=cases,
                tolerances=tolerances,
                localization=ctx.localization,
                subgraph=ctx.module_case,
            )
        except (OSError, ValueError, UsageError) as exc:  # the bundle is help, not a verdict
            # (UsageError: <file>.repro, not asked for, is a folder of the user's own: kept)
            log.warning("no repro bundle written to %s: %s", folder, exc)
            return
    ctx.repro_bundle = str(path)
    log.info("repro bundle written to %s", path)
