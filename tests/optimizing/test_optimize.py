"""optimize end to end on tiny real models: variants built, verified, gated, written or not."""

from __future__ import annotations

import math
from pathlib import Path

import onnx
import pytest

import onnxproof
from onnxproof.optimizing import OptimizeOptions
from onnxproof.optimizing._marker import write_marked, written_by_onnxproof
from onnxproof.report._text import plain
from onnxproof.report.optimize import render_optimize

QUICK = {"latency_budget_s": 0.02, "task": "classification"}


def _options(tmp_path: Path, variants: tuple[str, ...], **extra: object) -> OptimizeOptions:
    return OptimizeOptions(variants=variants, output_dir=tmp_path / "out", **{**QUICK, **extra})  # type: ignore[arg-type]


@pytest.mark.parametrize("fixture", ["cnn", pytest.param("bert", marks=pytest.mark.transformers)])
def test_fp16_and_int8_variants_of_a_cnn_and_a_tiny_bert_pass(
    fixture, request, tmp_path, monkeypatch
):
    made = request.getfixturevalue(fixture)
    model, path, data = made.model, made.path, made.data
    # The quantizer's shape inference dumps files into the current folder when incomplete
    # (it is, for the CNN): nothing may land in the user's folder.
    here = tmp_path / "cwd"
    here.mkdir()
    monkeypatch.chdir(here)
    variants = ("fp16", "int8-dynamic", "int8-static")
    report = onnxproof.optimize(
        model, path, inputs=made.inputs, data=data, options=_options(tmp_path, variants)
    )

    assert report.status == "pass"
    assert report.reference.endswith("in eager PyTorch (eval mode)")
    assert report.calibration_samples + report.evaluation_samples == (
        64 if fixture == "cnn" else 48
    )
    assert [v.name for v in report.variants] == list(variants)
    for variant in report.variants:
        assert variant.verdict == "pass", (variant.name, variant.gate, variant.error)
        assert variant.size_bytes and variant.size_ratio and variant.p50_ms and variant.speedup
        top1 = next(c for c in variant.gate if c.metric == "top1")
        assert top1.value >= 0.99 and top1.threshold == 0.99
        written = Path(variant.written or "")
        assert written.name == f"{path.stem}.{variant.name}.onnx"
        onnx.checker.check_model(str(written))
    # The quantized files really are quantized, the fp16 one really is float16.
    static = onnx.load(str(tmp_path / "out" / f"{path.stem}.int8-static.onnx"))
    assert any(n.op_type == "QuantizeLinear" for n in static.graph.node)
    half = onnx.load(str(tmp_path / "out" / f"{path.stem}.fp16.onnx"))
    assert any(t.data_type == onnx.TensorProto.FLOAT16 for t in half.graph.initializer)
    table = plain("\n".join(render_optimize(report)))
    for name in ("fp32", *variants):
        assert f"\n{name} " in table
    assert f"best: {report.best}" in table
    assert report.to_dict()["variants"][0]["rounds"][0]["gate"]
    assert list(here.iterdir()) == []


def test_per_tensor_int8_breaks_on_an_outlier_channel_and_the_retry_names_and_excludes_it(
    outlier, tmp_path
):
    made = outlier
    model, path, data = made.model, made.path, made.data
    report = onnxproof.optimize(
        model, path, inputs=made.inputs, data=data, options=_options(tmp_path, ("int8-static",))
    )

    (variant,) = report.variants
    first, retry = variant.rounds[0], variant.rounds[-1]
    assert first.verdict == "fail"
    assert next(c for c in first.gate if c.metric == "top1").value < 0.5
    drift = first.drift
    assert drift is not None and drift.first is not None
    # fc2 is where the output broke: it reads fc1's small channels, zeroed by fc1's scale.
    assert drift.first.module == "fc2"
    assert drift.first.sqnr_db < drift.threshold_db
    fc_nodes = {n.name: n for n in onnx.load(str(path)).graph.node}
    assert drift.first.node in fc_nodes
    assert len(drift.blamed) == 2 and drift.first.node in drift.blamed  # fc2 and fc1 (producer)
    assert retry.verdict == "pass" and retry.round == 1
    assert set(retry.excluded) == set(drift.blamed)
    assert variant.verdict == "pass" and variant.excluded == retry.excluded
    text = plain("\n".join(render_optimize(report)))
    assert f"first drifted node: {drift.first.node}" in text and "(module fc2)" in text


def test_a_failing_variant_is_never_written_and_a_stale_file_at_its_path_is_removed(
    outlier, tmp_path
):
    made = outlier
    model, path, data = made.model, made.path, made.data
    out = tmp_path / "out"
    out.mkdir()
    stale = out / f"{path.stem}.int8-static.onnx"
    write_marked(path, stale, "int8-static")  # as an earlier run wrote it
    options = _options(tmp_path, ("int8-static", "ort-basic"), max_rounds=0)
    report = onnxproof.optimize(model, path, inputs=made.inputs, data=data, options=options)

    failed, lossless = report.variants
    assert failed.verdict == "fail" and failed.written is None and len(failed.rounds) == 1
    assert not stale.exists()
    assert lossless.verdict == "pass" and Path(lossless.written or "").is_file()
    assert sorted(p.name for p in out.iterdir()) == [f"{path.stem}.ort-basic.onnx"]
    assert report.best == "ort-basic" and report.status == "pass"


def test_nothing_passing_writes_nothing(outlier, tmp_path):
    made = outlier
    model, path, data = made.model, made.path, made.data
    options = _options(tmp_path, ("int8-static",), max_rounds=0)
    report = onnxproof.optimize(model, path, inputs=made.inputs, data=data, options=options)
    assert report.status == "fail" and report.best is None
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_fp16_overflow_in_a_hand_written_layernorm_fails_without_the_block_list(
    large_norm, tmp_path
):
    made = large_norm
    model, path, data = made.model, made.path, made.data
    options = _options(tmp_path, ("fp16",), fp16_block_list=False, max_rounds=0)
    report = onnxproof.optimize(model, path, inputs=made.inputs, data=data, options=options)

    (variant,) = report.variants
    assert variant.verdict == "fail" and variant.written is None
    overflow = next(c for c in variant.gate if c.metric == "no-overflow")
    assert not overflow.passed
    drift = variant.rounds[0].drift
    assert drift is not None and drift.overflowed
    assert drift.first is not None and drift.first.sqnr_db == -math.inf
    assert drift.first.module == "norm" and drift.first.op_type == "Mul"  # x * x, the square
    assert not (tmp_path / "out" / f"{path.stem}.fp16.onnx").exists()


def test_fp16_with_the_block_list_keeps_the_normalization_in_fp32_and_passes(large_norm, tmp_path):
    made = large_norm
    model, path, data = made.model, made.path, made.data
    report = onnxproof.optimize(
        model, path, inputs=made.inputs, data=data, options=_options(tmp_path, ("fp16",))
    )

    (variant,) = report.variants
    assert variant.verdict == "pass", variant.gate
    assert next(c for c in variant.gate if c.metric == "no-overflow").passed
    assert any("kept in fp32" in note for note in variant.rounds[0].notes)
    assert (tmp_path / "out" / f"{path.stem}.fp16.onnx").is_file()


def test_fp16_of_a_mask_cast_to_float_loads_and_passes(mask_cast, tmp_path):
    """A ``mask.float()`` in the model: the converter's Cast keeps ``to`` float32 under a float16
    output, which ONNX Runtime refuses to load; the variant retargets it and passes."""
    made = mask_cast
    casts = [n for n in onnx.load(str(made.path)).graph.node if n.op_type == "Cast"]
    assert any(a.name == "to" and a.i == onnx.TensorProto.FLOAT for n in casts for a in n.attribute)
    report = onnxproof.optimize(
        made.model,
        made.path,
        inputs=made.inputs,
        data=made.data,
        options=_options(tmp_path, ("fp16",)),
    )
    (variant,) = report.variants
    assert variant.verdict == "pass", (variant.gate, variant.error)
    assert any("now cast to fp16" in note for note in variant.rounds[0].notes)
    written = onnx.load(str(tmp_path / "out" / f"{made.path.stem}.fp16.onnx"))
    onnx.checker.check_model(written, full_check=True)


def test_without_a_model_the_float_file_is_the_reference_and_synthetic_inputs_are_used(
    outlier, tmp_path
):
    path = outlier.path
    options = OptimizeOptions(
        variants=("ort-extended", "slim"), output_dir=tmp_path / "out", latency_budget_s=0.02
    )
    report = onnxproof.optimize(None, path, options=options)
    assert report.model is None and "no model given" in report.reference
    assert report.data.startswith("synthetic inputs")
    assert report.calibration_samples == report.evaluation_samples == 64
    assert all(v.verdict == "pass" for v in report.variants)
    gates = {c.metric for v in report.variants for c in v.gate}
    assert {"cosine", "rel_l2"} <= gates  # no task: the preset's cosine and rel-L2


def test_without_an_output_folder_a_passing_variant_still_passes(outlier):
    """The verdict is the gate's, whether or not a folder was given to write to."""
    options = OptimizeOptions(variants=("slim",), latency_budget_s=0.02)
    report = onnxproof.optimize(None, outlier.path, options=options)
    assert report.variants[0].verdict == "pass" and report.variants[0].written is None
    assert report.status == "pass" and report.best == "slim"


def test_a_variant_with_nothing_compared_never_passes(outlier, tmp_path):
    from onnxproof import runtimes
    from onnxproof.optimizing import Samples, optimize_file
    from onnxproof.specs import parse_input_specs

    specs = parse_input_specs(["x:float32[batch,16]"])
    options = OptimizeOptions(variants=("slim",), output_dir=tmp_path / "out", latency_budget_s=0.0)
    with runtimes.get("ort-cpu").load(str(outlier.path)) as reference:
        report = optimize_file(
            outlier.path, reference, specs, Samples([], [], "nothing"), options,
            model=None, reference_label="the float file",
        )  # fmt: skip
    variant = report.variants[0]
    assert variant.verdict == "fail" and any(c.metric == "ran" for c in variant.gate)
    assert report.status == "fail" and not list((tmp_path / "out").glob("*.onnx"))


def test_a_file_onnxproof_did_not_write_at_a_failing_variants_path_is_kept(outlier, tmp_path):
    """Neither a file of the user's own nor an ONNX file marked as another variant is removed
    when the variant fails: the result and the terminal report name it."""
    made = outlier
    out = tmp_path / "out"
    out.mkdir()
    own = out / f"{made.path.stem}.int8-static.onnx"
    own.write_text("user's own file")
    options = _options(tmp_path, ("int8-static",), max_rounds=0)
    report = onnxproof.optimize(
        made.model, made.path, inputs=made.inputs, data=made.data, options=options
    )
    (failed,) = report.variants
    assert failed.verdict == "fail" and failed.written is None
    assert own.read_text() == "user's own file"
    assert failed.kept == str(own) and report.to_dict()["variants"][0]["kept"] == str(own)
    assert f"{own} is not a variant onnxproof wrote" in plain("\n".join(render_optimize(report)))

    write_marked(made.path, own, "fp16")  # onnxproof's, but not this variant's
    report = onnxproof.optimize(
        made.model, made.path, inputs=made.inputs, data=made.data, options=options
    )
    assert own.is_file() and report.variants[0].kept == str(own)


def test_a_written_variant_carries_the_mark(outlier, tmp_path):
    made = outlier
    options = _options(tmp_path, ("ort-basic",), max_rounds=0)
    report = onnxproof.optimize(
        made.model, made.path, inputs=made.inputs, data=made.data, options=options
    )
    (variant,) = report.variants
    assert variant.written is not None
    assert written_by_onnxproof(Path(variant.written), "ort-basic")
    assert not written_by_onnxproof(made.path, "ort-basic")
