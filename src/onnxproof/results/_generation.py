"""Records of greedy generation with a key/value cache: eager PyTorch against the exported step."""

from __future__ import annotations

from dataclasses import dataclass

from onnxproof.results._base import _Record
from onnxproof.results._run import Localization


@dataclass(frozen=True, kw_only=True)
class GenerationStep(_Record):
    """One decoding step: how far the logits are apart and the token each side chose."""

    index: int
    #: Positions fed this step: the prompt's length at step 0, then 1.
    tokens_fed: int
    max_abs_diff: float
    max_rel_diff: float
    #: The logits agree within the run's tolerance.
    passed: bool
    eager_token: int
    onnx_token: int


@dataclass(frozen=True, kw_only=True)
class GenerationReport(_Record):
    """Greedy decoding from one prompt in eager PyTorch (the model with its cache) and in a
    runtime fed its own ``present`` back as ``past`` each step; the steps compared in order, up
    to the first token the two sides chose differently."""

    task: str
    #: The step model written: past_key_values.* in, present.* out.
    onnx_path: str
    runtime: str
    passed: bool
    atol: float
    rtol: float
    prompt: tuple[int, ...]
    eager_tokens: tuple[int, ...]
    onnx_tokens: tuple[int, ...]
    steps: tuple[GenerationStep, ...]
    #: The first step whose logits exceed the tolerance or whose token differs (None: none).
    first_divergent_step: int | None = None
    #: What diverged there: "logits", "token" or both ("logits, token").
    divergence: str | None = None
    #: The first PyTorch module whose output diverges on that step's inputs (localization).
    first_divergent_module: str | None = None
    localization: Localization | None = None
    #: Modules not compared between the last that agrees and the first divergent one: the
    #: divergence may start there (``verification.generation.uncompared_before``).
    uncompared_before: tuple[str, ...] = ()
    #: Layers, heads and head size of the cache, e.g. "2 layers x 2 heads x 16, float32".
    cache: str = ""
    export_seconds: float = 0.0
    seconds: float = 0.0
