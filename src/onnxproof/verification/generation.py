"""Greedy decoding with a key/value cache, on two sessions of one step model, compared step by step.

Each side runs the way a decoder runs in deployment: the prompt first (an empty past), then one
token at a time, its own ``present`` fed back as the next ``past`` and its own choice of token
appended. The steps are compared in order while both sides have chosen the same tokens: once they
part, later steps are fed different inputs and their logits say nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from onnxproof.data.synthetic import numpy_dtype
from onnxproof.results import GenerationStep, Localization
from onnxproof.runtimes import Session
from onnxproof.verification.metrics import compare
from onnxproof.verification.tolerance import TolerancePolicy

#: Tokens in the generated prompt.
PROMPT_LENGTH = 8
#: Tokens decoded after the prompt unless asked otherwise.
DEFAULT_STEPS = 8


@dataclass(frozen=True, kw_only=True)
class CacheLayout:
    """The names and shapes a step model's cache is fed and returned under."""

    past_names: tuple[str, ...]
    present_names: tuple[str, ...]
    heads: int
    head_dim: int
    dtype: str


@dataclass
class Decoding:
    """One side's run: the feeds, the logits (every position fed) and the token of each step."""

    feeds: list[dict[str, np.ndarray]] = field(default_factory=list)
    logits: list[np.ndarray] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)


def prompt_ids(vocab: int, seed: int, length: int = PROMPT_LENGTH) -> np.ndarray:
    """A seeded prompt ``[1, length]`` of token ids in ``[0, vocab)``."""
    return np.random.default_rng(seed).integers(0, vocab, size=(1, length), dtype=np.int64)


def greedy_decode(
    session: Session, prompt: np.ndarray, layout: CacheLayout, steps: int
) -> Decoding:
    """``steps`` tokens chosen by argmax, the prompt fed at step 0 with an empty past."""
    batch = prompt.shape[0]
    empty = np.zeros((batch, layout.heads, 0, layout.head_dim), dtype=numpy_dtype(layout.dtype))
    past = {name: empty for name in layout.past_names}
    ids = prompt
    seen = 0
    run = Decoding()
    for _ in range(steps):
        seen += ids.shape[1]
        feeds = {
            "input_ids": ids,
            "attention_mask": np.ones((batch, seen), dtype=np.int64),
            **past,
        }
        outputs = session.infer(feeds)
        logits = np.asarray(outputs["logits"])
        token = int(np.argmax(logits[0, -1]))
        run.feeds.append(feeds)
        run.logits.append(logits)
        run.tokens.append(token)
        past = {
            name: np.asarray(outputs[present])
            for name, present in zip(layout.past_names, layout.present_names, strict=True)
        }
        ids = np.full((batch, 1), token, dtype=np.int64)
    return run


def compare_decodings(
    eager: Decoding, candidate: Decoding, policy: TolerancePolicy
) -> tuple[tuple[GenerationStep, ...], int | None, str | None]:
    """The steps compared while the tokens agree, the first divergent step and what diverged."""
    atol, rtol = policy.for_output("logits", str(eager.logits[0].dtype) if eager.logits else "")
    results: list[GenerationStep] = []
    first: int | None = None
    what: str | None = None
    for index, (reference, actual) in enumerate(zip(eager.logits, candidate.logits, strict=True)):
        comparison = compare(actual, reference, atol=atol, rtol=rtol)
        step = GenerationStep(
            index=index,
            tokens_fed=int(eager.feeds[index]["input_ids"].shape[1]),
            max_abs_diff=comparison.max_abs_diff,
            max_rel_diff=comparison.max_rel_diff,
            passed=comparison.passed,
            eager_token=eager.tokens[index],
            onnx_token=candidate.tokens[index],
        )
        results.append(step)
        parts = [
            part
            for part, bad in (
                ("logits", not step.passed),
                ("token", step.eager_token != step.onnx_token),
            )
            if bad
        ]
        if parts and first is None:
            first, what = index, ", ".join(parts)
        if step.eager_token != step.onnx_token:
            break  # the two sides are fed different tokens from here on
    return tuple(results), first, what


def decode_both(
    reference: Session,
    candidate: Session,
    prompt: np.ndarray,
    layout: CacheLayout,
    steps: int,
) -> tuple[Decoding, Decoding]:
    """The same prompt decoded on both sides, each fed its own cache and tokens."""
    return (
        greedy_decode(reference, prompt, layout, steps),
        greedy_decode(candidate, prompt, layout, steps),
    )


def uncompared_before(localization: Localization) -> tuple[str, ...]:
    """Modules that could not be compared between the last one that agrees and the first that
    diverges: the divergence may start in them (an attention that also writes the cache leaves
    more values than the outputs read after it, so it is often among them)."""
    names = [m.module for m in localization.trail]
    if localization.first_divergent_module not in names:
        return ()
    index = names.index(localization.first_divergent_module)
    found: list[str] = []
    for entry in reversed(localization.trail[:index]):
        if entry.diverged is not None:
            break
        found.append(entry.module)
    return tuple(reversed(found))
