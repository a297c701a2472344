"""The generation step: a decoder with its key/value cache, verified the way it runs.

With ``task="text-generation-with-past"`` the step model (``past_key_values.*`` in, ``present.*``
out) is exported beside the run's file as ``<name>_with_past.onnx`` and a prompt is decoded
greedily in eager PyTorch and in the primary runtime, each feeding its own cache back. Without it,
a model that generates says that its cache was not verified.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

from onnxproof.errors import OnnxproofError
from onnxproof.pipeline._context import RunContext
from onnxproof.results import GenerationReport, Localization

log = logging.getLogger(__name__)

WITH_PAST = "text-generation-with-past"
GENERATION_TASKS = ("text-generation", WITH_PAST)
#: The step module wraps the model as its ``model`` attribute: module paths carry this prefix.
_WRAPPED = "model."


def generation_step(ctx: RunContext) -> None:
    """Export the step model and compare greedy decoding; or say why the cache was not verified."""
    from onnxproof.exporting.decoder import without_cache_reason
    from onnxproof.linting._base import make_finding
    from onnxproof.loading_hf import is_transformers_model

    module = ctx.loaded.module
    task = ctx.data_options.task
    generates = is_transformers_model(module) and bool(getattr(module, "can_generate", bool)())
    if task != WITH_PAST:
        if generates:
            why = "task text-generation" if task else "no --task text-generation-with-past"
            reason = without_cache_reason(module)
            message = f"{ctx.loaded.reference} was verified without its key/value cache ({why})"
            ctx.findings.append(
                make_finding("cache-not-verified", message + (f": {reason}" if reason else ""))
            )
        return
    reason = (
        without_cache_reason(module)
        if is_transformers_model(module)
        else f"{ctx.loaded.reference} is not a transformers model"
    )
    if ctx.onnx_path is None:
        return  # the export failed: already the run's failure
    if reason is not None:
        ctx.findings.append(make_finding("cache-unsupported", reason))
        ctx.record("generation", "not-run", reason)
        return
    with ctx.timed("generation", "decoding with the key/value cache"):
        _verify_generation(ctx, module)


def _verify_generation(ctx: RunContext, module: Any) -> None:
    """Export the step model beside the run's file, then decode and compare."""
    from onnxproof.exporting.decoder import export_step_model, step_module
    from onnxproof.linting._base import make_finding
    from onnxproof.pipeline._export import choose_opset

    assert ctx.onnx_path is not None
    path = str(Path(ctx.onnx_path).with_name(f"{Path(ctx.onnx_path).stem}_with_past.onnx"))
    opset, _ = choose_opset(ctx.export_options.opset, ctx.verify_options.targets)
    try:
        step, layout = step_module(module)
    except OnnxproofError as exc:
        ctx.findings.append(make_finding("cache-unsupported", exc.message))
        ctx.record("generation", "not-run", exc.message)
        return
    vocab = int(getattr(module.config, "vocab_size", 0) or 0)
    try:
        export_seconds = export_step_model(
            step,
            layout,
            path,
            vocab=vocab,
            opset=opset,
            reference=ctx.loaded.reference,
            verbose=ctx.export_options.verbose,
        )
    except OnnxproofError as exc:
        ctx.findings.append(make_finding("export-failed", exc.message))
        ctx.record("generation", "fail", exc.message)
        return
    report = _decoded(ctx, step, layout, path, vocab)
    if report is None:
        return
    report = dataclasses.replace(report, export_seconds=round(export_seconds, 3))
    ctx.generation = report
    if report.passed:
        ctx.record("generation", "pass")
        return
    message = diverged_message(report)
    ctx.findings.append(make_finding("generation-diverged", message))
    ctx.record("generation", "fail", message)


#: What the greedy loop needs of the step model's layout.
_CACHE_FIELDS = ("past_names", "present_names", "heads", "head_dim", "dtype")


def _decoded(
    ctx: RunContext, step: Any, layout: Any, path: str, vocab: int
) -> GenerationReport | None:
    """Both sides decoded and compared; None (with the step recorded) when they could not be."""
    from onnxproof import runtimes
    from onnxproof.linting._base import make_finding
    from onnxproof.pipeline._verify import runtimes_to_verify
    from onnxproof.verification._explain import explain_load_error
    from onnxproof.verification.generation import (
        CacheLayout,
        compare_decodings,
        decode_both,
        prompt_ids,
        uncompared_before,
    )

    start = time.perf_counter()
    runtime_name = runtimes_to_verify(ctx.verify_options)[0]
    try:
        candidate_runtime = runtimes.get(runtime_name)
        reference_runtime = runtimes.get(
            "torch", module=step, input_names=layout.input_names, output_names=layout.output_names
        )
    except OnnxproofError as exc:
        ctx.record("generation", "error", exc.message)
        return None
    cache = CacheLayout(**{f: getattr(layout, f) for f in _CACHE_FIELDS})
    prompt = prompt_ids(vocab or 2, ctx.verify_options.seed)
    steps = ctx.data_options.generation_steps
    try:
        with reference_runtime.load(path) as reference, candidate_runtime.load(path) as candidate:
            eager, onnx_run = decode_both(reference, candidate, prompt, cache, steps)
            results, first, what = compare_decodings(eager, onnx_run, ctx.policy)
            localization = None
            if first is not None and ctx.verify_options.localize is not False:
                feeds = eager.feeds[first]
                localization = _localize(ctx, reference, candidate_runtime, path, feeds, first)
    except OnnxproofError:
        raise
    except Exception as exc:  # the step model does not run: a failure of the file, not a crash
        message = f"the step model {path} did not run: {explain_load_error(str(exc))}"
        ctx.findings.append(make_finding("runtime-failure", message))
        ctx.record("generation", "fail", message)
        return None
    report = _report(ctx, layout, path, runtime_name, prompt, eager, onnx_run)
    return dataclasses.replace(
        report,
        steps=results,
        passed=first is None,
        first_divergent_step=first,
        divergence=what,
        first_divergent_module=localization.first_divergent_module if localization else None,
        localization=localization,
        uncompared_before=uncompared_before(localization) if localization else (),
        seconds=round(time.perf_counter() - start, 3),
    )


def _report(
    ctx: RunContext,
    layout: Any,
    path: str,
    runtime_name: str,
    prompt: Any,
    eager: Any,
    onnx_run: Any,
) -> GenerationReport:
    """The record's fixed part: what was decoded, where, at which tolerance."""
    atol, rtol = ctx.policy.for_output("logits", layout.dtype)
    return GenerationReport(
        task=WITH_PAST,
        onnx_path=path,
        runtime=runtime_name,
        passed=True,
        atol=atol,
        rtol=rtol,
        prompt=tuple(int(t) for t in prompt[0]),
        eager_tokens=tuple(eager.tokens),
        onnx_tokens=tuple(onnx_run.tokens),
        steps=(),
        cache=f"{layout.layers} layers x {layout.heads} heads x {layout.head_dim}, {layout.dtype}",
    )


def diverged_message(report: GenerationReport) -> str:
    """'step 0 of 8 (logits): max abs diff 0.05 > atol 1e-05; tokens 12 vs 40; in transformer.h.1'"""
    index = report.first_divergent_step
    step = next(s for s in report.steps if s.index == index)
    parts = [
        f"greedy decoding with the cache diverges at step {index} of {len(report.eager_tokens)} "
        f"({report.divergence}): logits max abs diff {step.max_abs_diff:.3g} "
        f"(atol {report.atol:g}, rtol {report.rtol:g})",
        f"tokens {step.eager_token} (eager) vs {step.onnx_token} ({report.runtime})",
    ]
    if report.first_divergent_module:
        before = report.uncompared_before
        maybe = f" (or in {', '.join(before)}, not compared, just before it)" if before else ""
        parts.append(f"first divergent module {report.first_divergent_module}{maybe}")
    return "; ".join(parts)


def _localize(
    ctx: RunContext, reference: Any, runtime: Any, path: str, feeds: dict[str, Any], index: int
) -> Localization | None:
    """The first divergent module on one step's eager inputs, named as in the user's model."""
    import onnx

    from onnxproof.pipeline._verify import _run_once
    from onnxproof.verification.localize import localize

    try:
        calls = reference.module_outputs(feeds)
        found = localize(
            onnx.load(path),
            calls,
            lambda instrumented: _run_once(runtime, instrumented, feeds),
            policy=ctx.policy,
            case=f"generation step {index}",
        )
    except Exception as exc:  # a diagnosis, not the verdict: the divergence is reported anyway
        log.info("localization of generation step %d left out: %s", index, exc)
        return None
    trail = tuple(
        dataclasses.replace(m, module=_unwrapped(m.module) or m.module) for m in found.trail
    )
    return dataclasses.replace(
        found,
        first_divergent_module=_unwrapped(found.first_divergent_module),
        trail=trail,
        unmatched_modules=tuple(_unwrapped(m) or "" for m in found.unmatched_modules),
        uncompared_inside=tuple(_unwrapped(m) or "" for m in found.uncompared_inside),
    )


def _unwrapped(name: str | None) -> str | None:
    """'model.transformer.h.1' → 'transformer.h.1'; 'model' (the model itself) → '<model>'."""
    if name is None or not name.startswith("model"):
        return name
    if name == "model":
        return "<model>"
    return name[len(_WRAPPED) :] if name.startswith(_WRAPPED) else name
