"""Runs that end on a user error leave nothing behind, and the cases saved with --save-inputs
never go where they would mix with the user's files or an earlier run's cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from onnxproof.data import synthetic_cases
from onnxproof.data.replay import MANIFEST, save_cases
from onnxproof.specs import parse_input_specs
from tests.conftest import ref

SPEC = "input:float32[batch,10]"


def _run(cli: Any, *args: str) -> Any:
    return cli("run", ref("SimpleNet"), "-i", SPEC, *args)


def test_an_unknown_tol_output_removes_the_file_the_run_wrote(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "left.onnx"
    result = _run(cli, "-o", str(out), "--tol", "nosuch=1,1")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "--tol names output(s) ['nosuch']" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_was_there_before_the_run_is_not_removed(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "kept.onnx"
    out.write_bytes(b"an earlier file")
    result = _run(cli, "-o", str(out), "--tol", "nosuch=1,1")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert out.is_file()  # replaced by this run's export, but not this run's to delete


def test_save_inputs_at_the_output_path_is_refused_before_any_work(
    cli: Any, tmp_path: Path
) -> None:
    out = tmp_path / "l.onnx"
    result = _run(cli, "-o", str(out), "--save-inputs", str(out))
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "--save-inputs" in result.stderr and "would overwrite the output" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_model_and_reports_may_sit_beside_the_saved_cases(cli: Any, tmp_path: Path) -> None:
    """--data on the folder reads arrays and images only: the run's own files beside the cases
    are not read back, so the folder is not refused for them."""
    folder = tmp_path / "sv"
    model, report = folder / "m.onnx", folder / "r.json"
    result = _run(cli, "-o", str(model), "--json", str(report), "--save-inputs", str(folder))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert model.is_file() and report.is_file() and (folder / "case-000.npz").is_file()
    again = _run(cli, "-o", str(tmp_path / "n.onnx"), "--data", str(folder))
    assert again.exit_code == 0, again.stdout + again.stderr


def test_save_inputs_into_the_data_folder_is_refused(cli: Any, tmp_path: Path) -> None:
    data = tmp_path / "dgood"
    save_cases(synthetic_cases(parse_input_specs([SPEC]), seed=0), data)
    before = sorted(p.name for p in data.iterdir())
    for target in (data, data / "sub"):
        result = _run(
            cli, "-o", str(tmp_path / "m.onnx"), "--data", str(data), "--save-inputs", str(target)
        )
        assert result.exit_code == 2, result.stdout + result.stderr
        assert "is the --data path" in result.stderr
    assert sorted(p.name for p in data.iterdir()) == before
    assert not (tmp_path / "m.onnx").exists()


def test_save_inputs_into_a_folder_of_other_files_is_refused(cli: Any, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    result = _run(cli, "-o", str(tmp_path / "m.onnx"), "--save-inputs", str(mine))
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "not a folder of saved inputs" in result.stderr
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_saving_again_replaces_an_earlier_runs_cases_and_replays(cli: Any, tmp_path: Path) -> None:
    """An earlier run with a second dynamic dim saved more cases (of another shape); saving into
    the same folder leaves exactly this run's cases, which replay with --data, and keeps a file
    of the user's own."""
    folder = tmp_path / "sv"
    earlier = save_cases(
        synthetic_cases(parse_input_specs(["input:float32[batch,seq]"]), seed=0), folder
    )
    (folder / "notes.txt").write_text("keep me")
    result = _run(cli, "-o", str(tmp_path / "m.onnx"), "--save-inputs", str(folder))
    assert result.exit_code == 0, result.stdout + result.stderr
    listed = [e["file"] for e in json.loads((folder / MANIFEST).read_text())]
    on_disk = sorted(p.name for p in folder.glob("case-*.npz"))
    assert len(listed) < len(earlier) and on_disk == sorted(listed)
    assert (folder / "notes.txt").read_text() == "keep me"

    (folder / "notes.txt").unlink()  # the data reader reads every file in the folder
    replay = _run(cli, "-o", str(tmp_path / "m2.onnx"), "--data", str(folder))
    assert replay.exit_code == 0, replay.stdout + replay.stderr


def test_verify_checks_tol_names_against_the_file_before_loading_the_model(
    cli: Any, tmp_path: Path
) -> None:
    import onnxproof
    from tests.models import SimpleNet

    onnx_path = tmp_path / "m.onnx"
    onnxproof.export(SimpleNet(), inputs=[SPEC], output=onnx_path)
    marker = tmp_path / "LOADED"
    module = tmp_path / "slow.py"
    module.write_text(
        f"open({str(marker)!r}, 'w').write('loaded')\nfrom tests.models import SimpleNet as Net\n"
    )
    result = cli("verify", f"{module}:Net", str(onnx_path), "-i", SPEC, "--tol", "nosuch=1,1")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "--tol names output(s) ['nosuch']" in result.stderr
    assert not marker.exists()
