"""Decoders with a key/value cache: one generation step as a module of flat tensors, and its export.

The layout is the one ONNX Runtime GenAI and Optimum use for ``text-generation-with-past``:

- inputs ``input_ids [batch, seq]``, ``attention_mask [batch, past_seq + seq]``,
  ``past_key_values.{i}.key`` / ``.value [batch, heads, past_seq, head_dim]``;
- outputs ``logits [batch, seq, vocab]``, ``present.{i}.key`` / ``.value
  [batch, heads, past_seq + seq, head_dim]``.

The same file serves the prompt (``past_seq = 0``) and every later token. The cache object the
model takes is built from the flat tensors with what transformers 4.x and 5.x share
(``DynamicCache()`` then ``update(key, value, layer)``), and the returned cache is flattened back.
"""

from __future__ import annotations

import inspect
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnx
import torch

from onnxproof._version import __version__
from onnxproof.errors import ExportError
from onnxproof.exporting._capture import capture_console
from onnxproof.exporting._messages import describe
from onnxproof.exporting._naming import name_graph_io
from onnxproof.exporting._write import finalize

log = logging.getLogger(__name__)

#: Example sizes at export: none is 0 or 1, which the dynamo exporter would specialize and bake.
EXAMPLE_BATCH, EXAMPLE_SEQ, EXAMPLE_PAST = 2, 3, 4


@dataclass(frozen=True, kw_only=True)
class StepLayout:
    """The shapes of one step's cache, learned from a prefill of the model itself."""

    layers: int
    heads: int
    head_dim: int
    dtype: str  # NumPy name of the cache's dtype

    @property
    def past_names(self) -> tuple[str, ...]:
        return tuple(f"past_key_values.{i}.{kv}" for i in range(self.layers) for kv in KV)

    @property
    def present_names(self) -> tuple[str, ...]:
        return tuple(f"present.{i}.{kv}" for i in range(self.layers) for kv in KV)

    @property
    def input_names(self) -> tuple[str, ...]:
        return ("input_ids", "attention_mask", *self.past_names)

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("logits", *self.present_names)


KV = ("key", "value")


class CacheStep(torch.nn.Module):
    """``forward(input_ids, attention_mask, *flat_past) -> (logits, *flat_present)``."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model
        self._cache_argument = cache_argument(model) or "past_key_values"

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, *past: torch.Tensor
    ) -> tuple[torch.Tensor, ...]:
        out = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            use_cache=True,
            **{self._cache_argument: cache_from(past)},
        )
        return (_logits(out), *flat_cache(_returned_cache(out)))


def cache_argument(model: Any) -> str | None:
    """The forward's cache keyword: ``cache`` (transformers 5.x) or ``past_key_values``."""
    parameters = inspect.signature(type(model).forward).parameters
    return next((n for n in ("cache", "past_key_values") if n in parameters), None)


def cache_from(flat: tuple[torch.Tensor, ...] | list[torch.Tensor]) -> Any:
    """A ``DynamicCache`` holding layer ``i``'s key and value at ``flat[2i]``, ``flat[2i+1]``."""
    from transformers import DynamicCache

    cache = DynamicCache()
    for layer in range(len(flat) // 2):
        cache.update(flat[2 * layer], flat[2 * layer + 1], layer)
    return cache


def flat_cache(cache: Any) -> list[torch.Tensor]:
    """Key, value of each layer in order, from a transformers cache of 4.x or 5.x or a legacy
    tuple of (key, value) pairs."""
    layers = getattr(cache, "layers", None)
    if layers is not None:  # transformers >= 4.56: one object per layer
        return [t for layer in layers for t in (layer.keys, layer.values)]
    if hasattr(cache, "key_cache"):  # earlier 4.x DynamicCache
        return [t for k, v in zip(cache.key_cache, cache.value_cache, strict=True) for t in (k, v)]
    if hasattr(cache, "to_legacy_cache"):
        cache = cache.to_legacy_cache()
    return [t for pair in cache for t in pair[:2]]


def _returned_cache(out: Any) -> Any:
    for name in ("cache", "past_key_values"):  # 5.x's name first: 4.x's warns there
        cache = out.get(name) if hasattr(out, "get") else getattr(out, name, None)
        if cache is not None:
            return cache
    raise ExportError(
        f"{type(out).__name__} holds no cache although use_cache=True was asked",
        hint="export without the cache (--task text-generation)",
    )


def _logits(out: Any) -> torch.Tensor:
    logits = out.get("logits") if hasattr(out, "get") else getattr(out, "logits", None)
    if not isinstance(logits, torch.Tensor):
        raise ExportError(
            f"{type(out).__name__} has no logits: not a causal language model",
            hint="load the model as a ...ForCausalLM / ...LMHeadModel class",
        )
    return logits


def without_cache_reason(model: Any) -> str | None:
    """Why ``model`` has no key/value cache to export, or None when it has one."""
    config = getattr(model, "config", None)
    if config is None or cache_argument(model) is None:
        return f"{type(model).__name__}.forward takes no past_key_values: it has no key/value cache"
    can_generate = getattr(model, "can_generate", None)
    if callable(can_generate) and not can_generate():
        return f"{type(model).__name__} does not generate text: it is not a causal language model"
    if getattr(config, "is_encoder_decoder", False):
        return (
            f"{type(model).__name__} is an encoder-decoder: only decoder-only caches are exported"
        )
    return None


def step_module(model: torch.nn.Module) -> tuple[CacheStep, StepLayout]:
    """The step module and its cache layout, from a prefill of the model (no cache given)."""
    reason = without_cache_reason(model)
    if reason is not None:
        raise ExportError(reason, hint="verify it without a cache (--task text-generation)")
    step = CacheStep(model).eval()
    ids = torch.zeros((1, EXAMPLE_PAST), dtype=torch.int64)
    try:
        with torch.no_grad():
            _, *present = step(ids, torch.ones_like(ids))
    except ExportError:
        raise
    except Exception as exc:
        raise ExportError(
            f"{type(model).__name__} did not run with a DynamicCache: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}",
            hint="verify it without a cache (--task text-generation)",
        ) from exc
    if not present or any(t.dim() != 4 for t in present) or len(present) % 2:
        raise ExportError(
            f"{type(model).__name__} returned a cache that is not [batch, heads, seq, head_dim] "
            "per layer",
            hint="verify it without a cache (--task text-generation)",
        )
    first = present[0]
    layout = StepLayout(
        layers=len(present) // 2,
        heads=int(first.shape[1]),
        head_dim=int(first.shape[3]),
        dtype=str(first.detach().numpy().dtype) if first.dtype != torch.bfloat16 else "bfloat16",
    )
    return step, layout


def example_step_args(layout: StepLayout, vocab: int) -> tuple[torch.Tensor, ...]:
    """Inputs of a later step: a past of ``EXAMPLE_PAST`` positions and ``EXAMPLE_SEQ`` new ids."""
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, max(vocab, 1), (EXAMPLE_BATCH, EXAMPLE_SEQ), generator=generator)
    mask = torch.ones((EXAMPLE_BATCH, EXAMPLE_PAST + EXAMPLE_SEQ), dtype=torch.int64)
    dtype = getattr(torch, layout.dtype)
    shape = (EXAMPLE_BATCH, layout.heads, EXAMPLE_PAST, layout.head_dim)
    past = tuple(
        torch.randn(shape, generator=generator).to(dtype) for _ in range(2 * layout.layers)
    )
    return (ids, mask, *past)


def export_step_model(
    step: CacheStep,
    layout: StepLayout,
    output: str | Path,
    *,
    vocab: int,
    opset: int,
    reference: str,
    verbose: bool = False,
) -> float:
    """Export the step with the dynamo exporter (batch, seq and past_seq dynamic) to ``output``;
    the seconds it took. ExportError says why it could not."""
    start = time.perf_counter()
    args = example_step_args(layout, vocab)
    batch, seq = torch.export.Dim.DYNAMIC, torch.export.Dim.DYNAMIC
    past_dims = tuple({0: batch, 2: torch.export.Dim.DYNAMIC} for _ in layout.past_names)
    dynamic_shapes = ({0: batch, 1: seq}, {0: batch, 1: torch.export.Dim.DYNAMIC}, past_dims)
    with capture_console(enabled=not verbose), torch.no_grad():
        try:
            program = torch.onnx.export(
                step,
                args,
                dynamo=True,
                dynamic_shapes=dynamic_shapes,
                opset_version=opset,
                optimize=True,
            )
        except Exception as exc:
            failure = describe(exc)
            raise ExportError(
                f"the step model with a key/value cache could not be exported: {failure.summary}",
                hint="verify the model without a cache (--task text-generation)",
            ) from exc
    if program is None:
        raise ExportError("the dynamo exporter returned no program for the step model")
    name_graph_io(program.model, layout.input_names, layout.output_names)
    _name_dims(program.model, layout)
    model = program.model_proto
    metadata = {
        "onnxproof.version": __version__,
        "onnxproof.torch_version": torch.__version__,
        "onnxproof.exporter": "dynamo",
        "onnxproof.model": reference,
        "onnxproof.task": "text-generation-with-past",
    }
    finalize(model, metadata, Path(output))
    onnx.checker.check_model(str(output), full_check=True)
    return time.perf_counter() - start


def _name_dims(model: Any, layout: StepLayout) -> None:
    """The graph's symbolic dims named as Optimum names them (the exporter writes s0, s1...)."""
    import onnx_ir as ir

    graph = model.graph
    names = {
        "input_ids": ("batch_size", "sequence_length"),
        "attention_mask": ("batch_size", "total_sequence_length"),
        "logits": ("batch_size", "sequence_length", None),
    }
    for name in layout.past_names:
        names[name] = ("batch_size", None, "past_sequence_length", None)
    for name in layout.present_names:
        names[name] = ("batch_size", None, "total_sequence_length", None)
    for value in [*graph.inputs, *graph.outputs]:
        wanted = names.get(value.name or "")
        if wanted is None or value.shape is None:
            continue
        dims = [
            ir.SymbolicDim(want) if want and not isinstance(dim, int) else dim
            for dim, want in zip(value.shape, wanted, strict=False)
        ]
        value.shape = ir.Shape(dims)
