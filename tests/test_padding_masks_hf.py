"""transformers models from the Python API with attention_mask inferred as a padding mask."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import onnxproof
from onnxproof.data import synthetic_cases
from onnxproof.pipeline._context import prepare

transformers = pytest.importorskip("transformers")
pytestmark = pytest.mark.transformers

TEXT = {"vocab_size": 99, "max_position_embeddings": 64}


def _bert() -> Any:
    config = transformers.BertConfig(
        hidden_size=32, intermediate_size=37, num_attention_heads=2, num_hidden_layers=2, **TEXT
    )
    return transformers.BertModel(config)


def _distilbert() -> Any:
    config = transformers.DistilBertConfig(dim=32, n_layers=2, n_heads=2, hidden_dim=37, **TEXT)
    return transformers.DistilBertForSequenceClassification(config)


@pytest.mark.parametrize("build", [_bert, _distilbert])
def test_inferred_padding_mask_passes(tmp_path: Path, build: Any) -> None:
    model = build()
    report = onnxproof.run(model, output=tmp_path / "m.onnx")
    assert report.status == "pass", report.findings
    codes = {f.code for f in report.findings}
    assert "inferred-padding-mask" in codes and "default-int-range" not in codes
    _, specs = prepare(model, None, None, None)
    mask = next(s for s in specs if s.name == "attention_mask")
    assert mask.role == "mask"
    feeds = [c.feeds["attention_mask"] for c in synthetic_cases(specs)]
    # rows of different lengths: the padded positions are exercised
    assert any(len(set(f.sum(axis=-1).tolist())) > 1 for f in feeds)
    assert all(f.sum(axis=-1).min() >= 1 for f in feeds)


def test_token_ids_given_without_range_take_the_vocabulary(tmp_path: Path) -> None:
    model = _bert()
    _, specs = prepare(
        model, None, ["input_ids:int64[batch,seq=8]", "attention_mask:int64[batch,seq]"], None
    )
    ids = specs[0]
    assert ids.value_range == (0, 98)
    values = np.concatenate([c.feeds["input_ids"].ravel() for c in synthetic_cases(specs)])
    assert values.max() > 9  # not the 0..9 of an integer input without a range


def test_gpt2_mask_binds_past_the_cache_by_name(tmp_path: Path) -> None:
    """GPT-2's forward takes past_key_values second: attention_mask reaches it only by name."""
    config = transformers.GPT2Config(vocab_size=99, n_embd=32, n_layer=2, n_head=2, n_positions=64)
    report = onnxproof.run(
        transformers.GPT2LMHeadModel(config),
        inputs=["input_ids:int64[batch,seq=16]", "attention_mask:int64[batch,seq]"],
        output=tmp_path / "gpt2.onnx",
        exporter="dynamo",
    )
    assert report.status == "pass", report.findings
    assert [t.name for t in report.inputs] == ["input_ids", "attention_mask"]


def test_sliding_window_padded_positions_are_excused(tmp_path: Path) -> None:
    """Mistral with a 4-token sliding window: a padded position whose window holds only padding
    is a fully masked softmax that each side resolves its own way. The difference sits only at
    padded positions of logits [batch, seq, vocab]: excused and counted, not a failure blamed
    on a Linear."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    config = transformers.MistralConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=100,
        max_position_embeddings=64,
        sliding_window=4,
    )
    report = onnxproof.run(
        transformers.MistralForCausalLM(config).eval(),
        inputs=["input_ids:int64[batch,seq=12]{0..99}", "attention_mask:int64[batch,seq]"],
        output=tmp_path / "mistral.onnx",
    )
    assert report.status == "pass", report.findings
    padded = [
        f.message
        for f in report.findings
        if f.code == "masked-row-mismatch" and "marks as padding" in f.message
    ]
    assert len(padded) == 1 and "'logits'" in padded[0] and "'attention_mask'" in padded[0]
    assert report.localization is None
    assert report.verification is not None
    assert all(c.passed for c in report.verification.cases)
