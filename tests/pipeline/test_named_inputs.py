"""Inputs bound to forward parameters by name, end to end through both exporters."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
import torch

import onnxproof
from onnxproof.errors import InputSpecError
from tests import named_models

NAMED = Path(named_models.__file__)
KEYWORD_MASK = ["mask:float32[batch,seq]{mask}", "x:float32[batch,seq=5,4]"]
SKIPPED_PAST = ["input_ids:int64[batch,seq=5]{0..9}", "attention_mask:int64[batch,seq]"]


@pytest.mark.parametrize("exporter", ["dynamo", "torchscript"])
def test_keyword_only_mask_binds_by_name(tmp_path: Path, exporter: str) -> None:
    path = tmp_path / "kw.onnx"
    report = onnxproof.run(
        named_models.KeywordMask(), inputs=KEYWORD_MASK, output=path, exporter=exporter
    )
    assert report.status == "pass", report.findings
    assert report.exporter == exporter
    # the file's inputs are named after the parameters, in the forward's order
    assert [i.name for i in onnx.load(str(path)).graph.input] == ["x", "mask"]


@pytest.mark.parametrize("exporter", ["dynamo", "torchscript"])
def test_skipped_optional_parameter_binds_by_name(tmp_path: Path, exporter: str) -> None:
    path = tmp_path / "past.onnx"
    report = onnxproof.run(
        named_models.SkippedPast(), inputs=SKIPPED_PAST, output=path, exporter=exporter
    )
    assert report.status == "pass", report.findings
    assert [i.name for i in onnx.load(str(path)).graph.input] == ["input_ids", "attention_mask"]
    assert "inferred-padding-mask" in {f.code for f in report.findings}


def test_the_mask_reaches_forward_as_the_keyword_it_names(tmp_path: Path) -> None:
    """Planted: a model that records what reaches attention_mask. Bound by position, the mask
    would land in past and attention_mask would stay None."""
    seen: list[object] = []

    class Records(named_models.SkippedPast):
        def forward(self, input_ids, past=None, attention_mask=None):  # type: ignore[no-untyped-def]
            seen.append((past is None, attention_mask is not None))
            return super().forward(input_ids, past=past, attention_mask=attention_mask)

    report = onnxproof.run(Records(), inputs=SKIPPED_PAST, output=tmp_path / "r.onnx")
    assert report.status == "pass" and seen
    assert all(s == (True, True) for s in seen), seen  # export, reference and every case


def test_dicts_of_specs_and_of_tensors(tmp_path: Path) -> None:
    model = named_models.SkippedPast()
    report = onnxproof.run(
        model,
        inputs={"attention_mask": "int64[batch,seq]", "input_ids": "int64[batch,seq=5]{0..9}"},
        output=tmp_path / "a.onnx",
    )
    assert report.status == "pass", report.findings
    assert [t.name for t in report.inputs] == ["input_ids", "attention_mask"]
    examples = {
        "attention_mask": torch.ones(3, 6, dtype=torch.int64),
        "input_ids": torch.randint(0, 10, (3, 6)),
    }
    exported = onnxproof.export(model, examples, output=tmp_path / "b.onnx")
    assert [i.name for i in onnx.load(exported.onnx_path).graph.input] == [
        "input_ids",
        "attention_mask",
    ]
    report = onnxproof.verify(model, exported.onnx_path, examples)
    assert report.status == "pass", report.findings


def test_example_tuple_named_after_parameters(tmp_path: Path) -> None:
    report = onnxproof.run(
        named_models.KeywordMask(), (torch.randn(2, 5, 4),), output=tmp_path / "t.onnx"
    )
    assert report.status == "pass" and [t.name for t in report.inputs] == ["x"]


def test_unknown_name_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputSpecError, match=r"not parameters of KeywordMask\.forward"):
        onnxproof.run(
            named_models.KeywordMask(),
            inputs=["x:float32[batch,4]", "msk:float32[batch,4]"],
            output=tmp_path / "u.onnx",
        )
    assert not (tmp_path / "u.onnx").exists()


@pytest.mark.parametrize(
    ("model", "specs"), [("KeywordMask", KEYWORD_MASK), ("SkippedPast", SKIPPED_PAST)]
)
def test_cli_binds_by_name(cli, tmp_path: Path, model: str, specs: list[str]) -> None:
    args = [a for s in specs for a in ("--input", s)]
    out = tmp_path / "r.json"
    result = cli(
        "run", f"{NAMED}:{model}", *args, "-o", str(tmp_path / "m.onnx"), "--json", str(out)
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.report is not None and result.report["status"] == "pass"


def test_cli_unknown_name_is_exit_2(cli, tmp_path: Path) -> None:
    result = cli(
        "run",
        f"{NAMED}:KeywordMask",
        "--input",
        "x:float32[batch,4]",
        "--input",
        "msk:float32[batch,4]",
        "-o",
        str(tmp_path / "m.onnx"),
    )
    assert result.exit_code == 2
    assert "msk" in result.stderr and "(x, mask)" in result.stderr
    assert "Traceback" not in result.stderr


class _VarArgs(torch.nn.Module):
    def forward(self, x: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        out = x
        for extra in rest:
            out = out + extra
        return out


def test_inputs_filling_star_args_export_with_dynamo_and_dynamic_dims(tmp_path: Path) -> None:
    """dynamic_shapes for *rest is one tuple under its name: dynamo exports it, no fallback."""
    specs = ["x:float32[batch,4]", "a:float32[batch,4]", "b:float32[batch,4]"]
    report = onnxproof.run(_VarArgs(), inputs=specs, output=tmp_path / "v.onnx")
    assert report.status == "pass"
    assert report.export is not None and report.export.exporter == "dynamo"
    assert "export-fallback" not in {f.code for f in report.findings}
