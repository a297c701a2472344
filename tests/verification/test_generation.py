"""Decoders with a key/value cache: the step model exported, greedy decoding compared step by step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import onnxproof
from onnxproof.cli import app
from onnxproof.results import Localization, ModuleError
from onnxproof.verification.generation import Decoding, compare_decodings, uncompared_before
from onnxproof.verification.tolerance import TolerancePolicy

transformers = pytest.importorskip("transformers")
pytestmark = pytest.mark.transformers

WITH_PAST = "text-generation-with-past"
#: The run's own file (without the cache) from static ids: few cases, so the tests stay quick.
IDS = "input_ids:int64[1,8]{0..99}"


def _gpt2() -> Any:
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        n_layer=2,
        n_embd=32,
        n_head=2,
        vocab_size=100,
        n_positions=64,
        bos_token_id=0,
        eos_token_id=0,
        initializer_range=0.2,  # wide enough that greedy decoding does not repeat one token
    )
    return transformers.GPT2LMHeadModel(config).eval()


def test_hf_folder_decodes_the_same_tokens_with_the_cache(tmp_path: Path) -> None:
    """The CLI on a saved folder: the step model has the flat cache layout, 8 greedy steps agree
    in tokens and logits, and the JSON report carries them."""
    _gpt2().save_pretrained(tmp_path / "gpt2")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["run", f"hf:{tmp_path / 'gpt2'}", "--task", WITH_PAST, "--input", IDS,
         "-o", str(out / "gpt2.onnx"), "--json", str(out / "r.json")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "generate" in result.output and "every step agrees" in result.output
    generation = json.loads((out / "r.json").read_text())["generation"]
    assert generation["passed"] and generation["first_divergent_step"] is None
    assert len(generation["steps"]) == 8 and generation["steps"][0]["tokens_fed"] == 8
    assert generation["eager_tokens"] == generation["onnx_tokens"]
    assert len(set(generation["eager_tokens"])) > 1  # a real sequence, not one repeated token
    import onnx

    graph = onnx.load(generation["onnx_path"]).graph
    assert [i.name for i in graph.input] == [
        "input_ids",
        "attention_mask",
        *(f"past_key_values.{i}.{kv}" for i in range(2) for kv in ("key", "value")),
    ]
    assert [o.name for o in graph.output] == [
        "logits",
        *(f"present.{i}.{kv}" for i in range(2) for kv in ("key", "value")),
    ]
    past = graph.input[2].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in past] == [
        "batch_size",
        2,
        "past_sequence_length",
        16,
    ]


def test_planted_change_in_one_attention_layer_names_the_step_and_layer(tmp_path: Path) -> None:
    """Layer 1's attention computes something else only in the exported file: step 0 diverges,
    the verdict fails, and the report names the step and a module of layer 1."""
    model = _gpt2()
    attention = model.transformer.h[1].attn
    original = attention.forward

    def planted(*args: Any, **kwargs: Any) -> Any:
        out = original(*args, **kwargs)
        if torch.onnx.is_in_onnx_export():  # a scale: a constant offset would vanish in LayerNorm
            return (out[0] * 1.5, *out[1:])
        return out

    attention.forward = planted
    report = onnxproof.run(
        model, inputs=[IDS], output=tmp_path / "gpt2.onnx", task=WITH_PAST, repro=False
    )
    generation = report.generation
    assert report.status == "fail"
    assert generation is not None and not generation.passed
    assert generation.first_divergent_step == 0
    assert generation.steps[0].max_abs_diff > 1e-3 and "logits" in (generation.divergence or "")
    module = generation.first_divergent_module or ""
    assert module.startswith("transformer.h.1."), module
    assert "transformer.h.1.attn" in generation.uncompared_before
    assert report.step("generation").state == "fail"  # type: ignore[union-attr]
    finding = next(f for f in report.findings if f.code == "generation-diverged")
    assert "step 0" in finding.message and "transformer.h.1" in finding.message
    # The shared reports carry it too: a failing JUnit testcase and a Markdown row.
    from onnxproof.report.junit import render_junit
    from onnxproof.report.markdown import render_markdown

    junit = render_junit(report)
    assert 'classname="onnxproof.generation"' in junit and "step 0: logits" in junit
    row = next(line for line in render_markdown(report).splitlines() if "| generation" in line)
    assert "step 0 diverges" in row and "transformer.h.1." in row


def test_without_the_cache_the_run_passes_and_says_the_cache_was_not_verified(
    tmp_path: Path,
) -> None:
    model = _gpt2()
    assert model.config.use_cache and "forward" not in model.__dict__
    report = onnxproof.run(
        model, inputs=[IDS], output=tmp_path / "gpt2.onnx", task="text-generation"
    )
    assert report.status == "pass" and report.generation is None
    # The cache was off for the export only: the caller's model generates with it again.
    assert model.config.use_cache and "forward" not in model.__dict__
    assert report.step("generation") is None
    finding = next(f for f in report.findings if f.code == "cache-not-verified")
    assert "without its key/value cache (task text-generation)" in finding.message
    assert report.to_dict()["generation"] is None


def test_the_api_with_a_model_object_verifies_the_cache(tmp_path: Path) -> None:
    report = onnxproof.run(
        _gpt2(), output=tmp_path / "gpt2.onnx", task=WITH_PAST, generation_steps=3
    )
    generation = report.generation
    assert report.status == "pass" and generation is not None and generation.passed
    assert len(generation.steps) == 3 and generation.eager_tokens == generation.onnx_tokens
    assert max(s.max_abs_diff for s in generation.steps) < 1e-4
    assert not any(f.code == "cache-not-verified" for f in report.findings)
    assert Path(generation.onnx_path).name == "gpt2_with_past.onnx"


def test_a_model_without_a_cache_says_why(tmp_path: Path) -> None:
    model = transformers.BertModel(
        transformers.BertConfig(
            vocab_size=99,
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=2,
            num_hidden_layers=1,
            max_position_embeddings=64,
        )  # fmt: skip
    )
    specs = ["input_ids:int64[1,8]{0..98}"]
    report = onnxproof.run(model, inputs=specs, output=tmp_path / "bert.onnx", task=WITH_PAST)
    assert report.status == "pass" and report.generation is None
    finding = next(f for f in report.findings if f.code == "cache-unsupported")
    assert "BertModel does not generate" in finding.message
    assert report.step("generation").state == "not-run"  # type: ignore[union-attr]


def test_verify_refuses_the_generation_task_rather_than_ignore_it(tmp_path: Path) -> None:
    path = tmp_path / "any.onnx"
    path.write_bytes(b"not read")
    with pytest.raises(onnxproof.UsageError, match="exported and decoded step by step by run"):
        onnxproof.verify(_gpt2(), path, task=WITH_PAST)


def _decoding(logits: list[float], tokens: list[int]) -> Decoding:
    run = Decoding()
    for value, token in zip(logits, tokens, strict=True):
        run.feeds.append({"input_ids": np.zeros((1, 1), np.int64)})
        run.logits.append(np.full((1, 1, 4), value, np.float32))
        run.tokens.append(token)
    return run


def test_comparison_stops_at_the_first_token_that_differs() -> None:
    policy = TolerancePolicy(atol=1e-4, rtol=0.0)
    eager = _decoding([0.0, 0.0, 0.0, 0.0], [1, 2, 3, 4])
    steps, first, what = compare_decodings(
        eager, _decoding([0.0, 0.0, 0.0, 0.0], [1, 2, 9, 4]), policy
    )
    assert (first, what) == (2, "token") and len(steps) == 3
    steps, first, what = compare_decodings(
        eager, _decoding([0.0, 0.5, 0.0, 0.0], [1, 2, 3, 4]), policy
    )
    assert (first, what, len(steps)) == (1, "logits", 4)
    assert steps[1].max_abs_diff == pytest.approx(0.5) and not steps[1].passed
    assert compare_decodings(eager, eager, policy)[1] is None


def test_uncompared_modules_just_before_the_divergent_one() -> None:
    def entry(name: str, diverged: bool | None) -> ModuleError:
        return ModuleError(
            module=name, module_type="M", onnx_value=None, max_abs_diff=None,
            max_rel_diff=None, diverged=diverged,
        )  # fmt: skip

    trail = (entry("a", False), entry("b", None), entry("c", None), entry("d", True))
    localization = Localization(
        case="x", first_divergent_module="d", module_type="M", onnx_nodes=(), error=1.0,
        trail=trail, unmatched_modules=(),
    )  # fmt: skip
    assert uncompared_before(localization) == ("b", "c")


@pytest.mark.parametrize("steps", [0, -1, 2.5])
def test_generation_steps_that_would_compare_nothing_are_refused(steps: object) -> None:
    with pytest.raises(onnxproof.UsageError, match="generation_steps must be a whole number"):
        onnxproof.run(_gpt2(), task=WITH_PAST, generation_steps=steps)  # type: ignore[arg-type]
