"""transformers models from their configs (random weights): hf:DIR folders and model objects."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

import onnxproof

transformers = pytest.importorskip("transformers")
pytestmark = pytest.mark.transformers


def _tiny(name: str) -> Any:
    t = transformers
    text = {"vocab_size": 99, "max_position_embeddings": 64}
    heads = {"num_attention_heads": 2, "num_hidden_layers": 2}
    return {
        "bert": lambda: t.BertModel(
            t.BertConfig(hidden_size=32, intermediate_size=37, **heads, **text)
        ),
        "distilbert": lambda: t.DistilBertForSequenceClassification(
            t.DistilBertConfig(dim=32, n_layers=2, n_heads=2, hidden_dim=37, **text)
        ),
        "gpt2": lambda: t.GPT2LMHeadModel(
            t.GPT2Config(vocab_size=99, n_embd=32, n_layer=2, n_head=2, n_positions=64)
        ),
        "vit": lambda: t.ViTForImageClassification(
            t.ViTConfig(
                hidden_size=32,
                intermediate_size=37,
                image_size=32,
                patch_size=8,
                num_labels=3,
                **heads,
            )  # fmt: skip
        ),
        "t5": lambda: t.T5ForConditionalGeneration(
            t.T5Config(
                vocab_size=99,
                d_model=32,
                d_ff=37,
                d_kv=8,
                num_layers=2,
                num_heads=2,
                decoder_start_token_id=0,
            )  # fmt: skip
        ),
        "bart": lambda: t.BartForConditionalGeneration(
            t.BartConfig(
                d_model=32,
                encoder_layers=2,
                decoder_layers=2,
                encoder_attention_heads=2,
                decoder_attention_heads=2,
                encoder_ffn_dim=37,
                decoder_ffn_dim=37,
                **text,
            )  # fmt: skip
        ),
    }[name]()


EXPECTED_OUTPUTS = {
    "bert": ["last_hidden_state", "pooler_output"],
    "distilbert": ["logits"],
    "gpt2": ["logits"],
    "vit": ["logits"],
    "t5": ["logits", "encoder_last_hidden_state"],
    "bart": ["logits", "encoder_last_hidden_state"],
}


@pytest.mark.parametrize("name", list(EXPECTED_OUTPUTS))
def test_saved_folder_runs_with_inferred_inputs(tmp_path: Path, name: str) -> None:
    _tiny(name).save_pretrained(tmp_path / name)
    report = onnxproof.run(f"hf:{tmp_path / name}", output=tmp_path / f"{name}.onnx")
    assert report.status == "pass", [f.message for f in report.findings]
    assert [o.name for o in report.outputs] == EXPECTED_OUTPUTS[name]
    dims = {d for t in report.inputs for d in (t.shape or ()) if isinstance(d, str)}
    assert "batch" in dims


def test_model_object_gets_the_same_inference(tmp_path: Path) -> None:
    model = _tiny("bert")
    report = onnxproof.run(model, output=tmp_path / "b.onnx")
    assert report.status == "pass"
    assert [t.name for t in report.inputs] == ["input_ids", "attention_mask", "token_type_ids"]
    ids = (
        next(s for s in report.export.input_specs if s.startswith("input_ids"))
        if report.export
        else ""
    )
    assert ids.endswith("{0..98}")  # token ids inside the vocabulary


class ExportOnlyShift(nn.Module):
    """Doubles its output only while being exported (a constant shift would vanish in the
    LayerNorm that follows): the file computes something else than the model."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.inner(x)
        return y * 2 if torch.onnx.is_in_onnx_export() else y


def test_planted_divergence_fails_and_is_localized(tmp_path: Path) -> None:
    model = _tiny("bert")
    layer = model.encoder.layer[1].output
    layer.dense = ExportOnlyShift(layer.dense)
    report = onnxproof.run(model, output=tmp_path / "p.onnx")
    assert report.status == "fail"
    assert report.localization is not None
    assert report.localization.first_divergent_module == "encoder.layer.1.output.dense"


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(onnxproof.ModelLoadError, match="no config.json"):
        onnxproof.run(f"hf:{tmp_path}", output=tmp_path / "x.onnx")


def _remote_code_folder(folder: Path, marker: Path) -> Path:
    """A folder whose config maps AutoConfig/AutoModel to its own Python file, which would write
    ``marker`` the moment it is imported."""
    folder.mkdir()
    (folder / "config.json").write_text(
        '{"model_type": "evilnet", "architectures": ["EvilModel"], "auto_map": '
        '{"AutoConfig": "modeling_evil.EvilConfig", "AutoModel": "modeling_evil.EvilModel"}}'
    )
    (folder / "modeling_evil.py").write_text(
        f"open({str(marker)!r}, 'w').write('code ran')\n"
        "from transformers import PretrainedConfig, PreTrainedModel\n"
        "class EvilConfig(PretrainedConfig):\n    model_type = 'evilnet'\n"
        "class EvilModel(PreTrainedModel):\n    config_class = EvilConfig\n"
    )
    return folder


@pytest.mark.parametrize("answer", ["y\n", ""])
def test_a_folder_with_its_own_code_is_refused_and_never_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    from click.testing import CliRunner

    from onnxproof.cli import app

    marker = tmp_path / "CODE_RAN"
    folder = _remote_code_folder(tmp_path / "remote", marker)
    monkeypatch.chdir(tmp_path)  # the folder's module would be importable from here too
    result = CliRunner().invoke(
        app, ["run", f"hf:{folder}", "-o", str(tmp_path / "r.onnx")], input=answer
    )
    assert not marker.exists()
    assert result.exit_code == 2, result.output
    assert "auto_map" in result.output and "modeling_evil.EvilModel" in result.output
    assert "Do you wish to run the custom code" not in result.output
    assert not (tmp_path / "r.onnx").exists()


def test_a_folder_with_its_own_code_is_refused_by_the_api(tmp_path: Path) -> None:
    marker = tmp_path / "CODE_RAN"
    folder = _remote_code_folder(tmp_path / "remote", marker)
    with pytest.raises(onnxproof.ModelLoadError, match="auto_map") as caught:
        onnxproof.run(f"hf:{folder}", output=tmp_path / "r.onnx")
    assert "pass the object" in (caught.value.hint or "")
    assert not marker.exists()


def test_an_unknown_model_type_is_a_user_error(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from onnxproof.cli import app

    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text(
        '{"model_type": "nosuch", "architectures": ["NoSuchModel"]}'
    )
    result = CliRunner().invoke(
        app, ["run", f"hf:{tmp_path / 'bad'}", "-o", str(tmp_path / "b.onnx")]
    )
    assert result.exit_code == 2, result.output
    assert "nosuch" in result.output and "this is a bug" not in result.output


def test_the_torchscript_exporter_gets_a_model_without_its_cache(tmp_path: Path) -> None:
    """The TorchScript exporter passes every forward parameter by position: a
    functools.partial(use_cache=False) collided with it ("got multiple values for argument
    'use_cache'"), so no transformers model with a cache exported that way."""
    from onnxproof.loading_hf import restore_cache, without_cache

    model = _tiny("bert")
    result = onnxproof.export(
        model,
        inputs=["input_ids:int64[batch,seq=6]{0..98}", "attention_mask:int64[batch,seq]"],
        output=tmp_path / "b.onnx",
        exporter="torchscript",
    )
    assert result.exporter == "torchscript", result.attempts
    # The bound forward keeps the model's signature, use_cache defaulting to False.
    without_cache(model)
    assert inspect.signature(model.forward).parameters["use_cache"].default is False
    restore_cache(model)
    assert "forward" not in model.__dict__
