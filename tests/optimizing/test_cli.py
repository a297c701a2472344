"""``onnxproof optimize`` as a user runs it: exit codes 0/1/2, the table, the JSON report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

QUICK = ("--latency-budget", "0.02", "--task", "classification")


def test_a_passing_variant_is_written_and_the_command_exits_0(cli, outlier, tmp_path):
    out, report = tmp_path / "out", tmp_path / "r.json"
    result = cli(
        "optimize", str(outlier.path), "--data", str(outlier.data), "--variant", "fp16",
        "--variant", "ort-extended", "-o", str(out), "--json", str(report), *QUICK,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[3].split()[:3] == ["variant", "bytes", "size"]
    assert any(line.startswith("fp16 ") and " pass " in line for line in lines)
    assert "(float32) on ort-cpu: no model given" in result.stdout
    assert "samples 0..47 calibrate, 48..95 evaluate" in result.stdout
    assert result.report is not None and result.report["status"] == "pass"
    assert [v["name"] for v in result.report["variants"]] == ["fp16", "ort-extended"]
    assert result.report["best"] in ("fp16", "ort-extended")
    assert sorted(p.name for p in out.iterdir()) == [
        "outlier.fp16.onnx",
        "outlier.ort-extended.onnx",
    ]


def test_no_variant_passing_exits_1_and_writes_nothing(cli, outlier, tmp_path):
    out = tmp_path / "out"
    result = cli(
        "optimize", str(outlier.path), "--data", str(outlier.data), "--variant", "int8-static",
        "--max-rounds", "0", "-o", str(out), *QUICK,
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    assert "no variant passed its gate: nothing was written" in result.stdout
    assert "first drifted node:" in result.stdout
    assert not out.exists() or not any(out.iterdir())


def test_a_model_and_its_file_make_eager_pytorch_the_reference(cli, outlier, tmp_path):
    model = f"{Path(__file__).parent / 'models.py'}:OutlierChannel"  # seeded weights
    result = cli("optimize", model, str(tmp_path / "absent.onnx"), "--variant", "slim")
    assert result.exit_code == 2 and "absent.onnx" in result.stderr
    result = cli(
        "optimize", model, str(outlier.path), "--variant", "slim",
        "--latency-budget", "0.02", "-o", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout
    assert "OutlierChannel in eager PyTorch (eval mode)" in result.stdout
    assert "synthetic inputs (no --data)" in result.stdout
    assert "not elementwise within" not in result.stdout  # the float file matches the model


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--gate", "top1=1.5"), "gate top1=1.5 is outside"),
        (("--gate", "speed=2", "--task", "classification"), "unknown gate metric 'speed'"),
        (("--gate", "top1"), "is not NAME=VALUE"),
        (("--variant", "int4"), "unknown variant(s) ['int4']"),
        (("--calib-data", "{data}"), "--calib-data needs --data"),
        (("--data", "{data}", "--calib-data", "{data}"), "--calib-data and --data are the same"),
    ],
)
def test_bad_input_exits_2_with_one_line(cli, outlier, tmp_path, args, message):
    args = tuple(a.replace("{data}", str(outlier.data)) for a in args)
    result = cli("optimize", str(outlier.path), "-o", str(tmp_path / "out"), *args)
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_top1_without_a_task_and_data_of_the_wrong_shape_exit_2(cli, outlier, tmp_path):
    result = cli("optimize", str(outlier.path), "--gate", "top1=0.9")
    assert result.exit_code == 2 and "--gate top1 needs --task classification" in result.stderr
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, x=np.zeros((8, 5), np.float32))
    result = cli("optimize", str(outlier.path), "--data", str(wrong), "-o", str(tmp_path / "o"))
    assert result.exit_code == 2 and "'x'" in result.stderr and "[8, 5]" in result.stderr
    result = cli("optimize", str(tmp_path / "missing.onnx"))
    assert result.exit_code == 2 and "missing.onnx" in result.stderr


def test_an_output_folder_that_cannot_be_made_exits_2_before_any_variant(cli, outlier, tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    result = cli("optimize", str(outlier.path), "--variant", "slim", "-o", str(blocker / "out"))
    assert result.exit_code == 2, result.stderr
    assert "cannot write the variants to" in result.stderr and "Traceback" not in result.stderr


def test_classification_on_an_output_without_a_class_axis_exits_2(cli, tmp_path):
    """top-1 needs [batch, classes]: a [batch] output is the user's option, not a variant's
    failure (nor an internal error)."""
    import torch

    import onnxproof

    class Score(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.sum(dim=1)

    path = tmp_path / "score.onnx"
    onnxproof.export(Score(), inputs=["x:float32[batch,4]"], output=path)
    result = cli(
        "optimize", str(path), "--variant", "slim", "--task", "classification",
        "-o", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "needs a class axis after the batch" in result.stderr


def test_a_model_built_with_fresh_weights_that_is_not_the_files_exits_2(cli, outlier, tmp_path):
    """Without --weights the class is built anew: judged against it, every variant would fail
    for a reason that is not the variant's. Refused before any variant, nothing written."""
    source = tmp_path / "fresh.py"
    source.write_text(
        "import torch\n"
        "from tests.optimizing.models import OutlierChannel\n\n"
        "class Fresh(OutlierChannel):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        for p in self.parameters():\n"
        "            torch.nn.init.normal_(p)\n"
    )
    out = tmp_path / "out"
    result = cli(
        "optimize", f"{source}:Fresh", str(outlier.path), "--variant", "slim", "-o", str(out)
    )  # fmt: skip
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "built here with fresh random weights" in result.stderr
    assert not out.exists()
