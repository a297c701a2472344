"""Repro bundles: written from a real failing run, replayed by reproduce.py in a fresh virtual
environment that holds only numpy and onnxruntime."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import onnxproof
from onnxproof import runtimes
from onnxproof.data import synthetic_cases
from onnxproof.errors import UsageError
from onnxproof.report.repro import MAX_CASES, record_module, write_repro_bundle
from onnxproof.results import RunReport
from onnxproof.specs import parse_input_specs
from tests import models

SPEC = "x:float32[batch,10]"


@pytest.fixture(scope="session")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with numpy and onnxruntime only (no onnxproof, no torch), once per session."""
    folder = tmp_path_factory.mktemp("repro-venv")
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    python = folder / "bin" / "python"
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "numpy",
            "onnxruntime",
        ],
        capture_output=True,
        text=True,
    )
    if install.returncode != 0:
        pytest.skip(
            f"could not install numpy and onnxruntime in a fresh venv: {install.stderr[-500:]}"
        )
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json"], capture_output=True, text=True
    )
    names = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert "torch" not in names and "onnxproof" not in names and "onnx" not in names
    return python


def _reproduce(python: Path, bundle: Path) -> tuple[int, str]:
    done = subprocess.run(
        [str(python), str(bundle / "reproduce.py")],
        capture_output=True,
        text=True,
        cwd=bundle.parent,  # the script finds its files beside itself, not in the cwd
        timeout=120,
    )
    assert not done.stderr or "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout


def _printed(stdout: str) -> dict[str, float]:
    """Output name -> max abs diff, as reproduce.py prints them for the whole model."""
    whole = stdout.split("module ")[0]
    return {
        m.group(1): float(m.group(2))
        for m in re.finditer(r"output (\S+): max abs diff (\S+)", whole)
    }


def _cases(
    model: torch.nn.Module, report: RunReport, indices: list[int]
) -> list[tuple[str, dict[str, np.ndarray], dict[str, np.ndarray]]]:
    """The cases of ``indices`` regenerated as the run made them, with PyTorch's outputs."""
    assert report.verification is not None
    (name,) = [o.name for o in report.verification.outputs]
    model.eval()
    found = []
    for case in synthetic_cases(parse_input_specs([SPEC]), seed=0):
        if case.index in indices:
            with torch.no_grad():
                out = model(torch.from_numpy(case.feeds["x"])).numpy()
            found.append((f"case {case.index}", case.feeds, {name: out}))
    return found


def _tolerances(report: RunReport) -> dict[str, tuple[float, float]]:
    assert report.verification is not None
    return {o.name: (o.atol, o.rtol) for o in report.verification.outputs}


def test_failing_run_reproduces_with_numpy_and_onnxruntime_only(
    tmp_path: Path, bare_python: Path
) -> None:
    model = models.ExportOnlyDivergence()
    onnx_path = tmp_path / "d.onnx"
    report = onnxproof.run(model, inputs=[SPEC], output=onnx_path, repro=False)
    assert report.status == "fail" and report.verification is not None
    failing = [c.index for c in report.verification.cases if not c.passed]
    assert len(failing) > MAX_CASES
    bundle = write_repro_bundle(
        tmp_path / "d.repro",
        onnx_path=onnx_path,
        cases=_cases(model, report, failing),
        tolerances=_tolerances(report),
    )
    held = {p.name for p in bundle.iterdir()}
    assert held == {
        "model.onnx",
        "inputs.npz",
        "expected.npz",
        "tolerances.json",
        "cases.json",
        "README.txt",
        "reproduce.py",
        "onnxproof-bundle.json",
    }
    with np.load(bundle / "inputs.npz") as inputs:
        assert len(inputs.files) == MAX_CASES  # capped: the first failing cases only
    assert "reproduce.py" in (bundle / "README.txt").read_text()

    code, stdout = _reproduce(bare_python, bundle)
    assert code == 1, stdout
    (out,) = report.verification.outputs
    printed = _printed(stdout)
    assert printed == {out.name: pytest.approx(out.max_abs_diff, rel=1e-5)}
    assert "DIFFERS" in stdout


def test_passing_model_exits_0(tmp_path: Path, bare_python: Path) -> None:
    model = models.SimpleNet()
    onnx_path = tmp_path / "s.onnx"
    report = onnxproof.run(model, inputs=[SPEC], output=onnx_path, repro=False)
    assert report.status == "pass"
    bundle = write_repro_bundle(
        tmp_path / "s.repro",
        onnx_path=onnx_path,
        cases=_cases(model, report, [0, 1]),
        tolerances=_tolerances(report),
    )
    code, stdout = _reproduce(bare_python, bundle)
    assert code == 0, stdout
    assert "agrees" in stdout and "DIFFERS" not in stdout


def _module_case(model: torch.nn.Module, onnx_path: Path, report: RunReport) -> Any:
    """What the pipeline records for the first divergent module, on case 0."""
    import onnx

    loc = report.localization
    assert loc is not None and loc.first_divergent_module == "blocks.3"
    feeds = next(iter(synthetic_cases(parse_input_specs(["x:float32[batch,4]"]), seed=0))).feeds
    full = onnx.load(str(onnx_path))
    names = ([i.name for i in full.graph.input], [o.name for o in full.graph.output])
    torch_runtime = runtimes.get("torch", module=model, input_names=names[0], output_names=names[1])
    with torch_runtime.load(str(onnx_path)) as reference:
        traced = reference.module_outputs(feeds)  # type: ignore[attr-defined]
    module_output = next(c.outputs[0][1] for c in traced if c.path == loc.first_divergent_module)

    def run_onnx(path: str) -> dict[str, np.ndarray]:
        with runtimes.get("ort-cpu").load(path) as session:
            return dict(session.infer(feeds))

    case = record_module(full, loc, feeds, module_output, run_onnx, atol=1e-4, rtol=1e-3)
    assert case is not None
    return feeds, case


def test_bundle_holds_the_divergent_module_alone(tmp_path: Path, bare_python: Path) -> None:
    model = models.Blocks(bad=3)
    onnx_path = tmp_path / "b.onnx"
    report = onnxproof.run(model, inputs=["x:float32[batch,4]"], output=onnx_path, repro=False)
    assert report.verification is not None and report.localization is not None
    feeds, case = _module_case(model, onnx_path, report)
    model.eval()
    with torch.no_grad():
        expected = model(torch.from_numpy(feeds["x"])).numpy()
    bundle = write_repro_bundle(
        tmp_path / "b.repro",
        onnx_path=onnx_path,
        cases=[("case 0", feeds, {report.verification.outputs[0].name: expected})],
        tolerances=_tolerances(report),
        localization=report.localization,
        subgraph=case,
    )
    manifest = json.loads((bundle / "cases.json").read_text())
    assert manifest["module"]["name"] == "blocks.3" and (bundle / "module.onnx").is_file()
    import onnx

    sub = onnx.load(str(bundle / "module.onnx"))
    assert len(sub.graph.node) < len(onnx.load(str(onnx_path)).graph.node)
    assert "blocks.3" in (bundle / "README.txt").read_text()

    code, stdout = _reproduce(bare_python, bundle)
    assert code == 1, stdout
    module_part = stdout.split("module blocks.3 alone")[1]
    diff = float(re.search(r"max abs diff (\S+)", module_part).group(1))  # type: ignore[union-attr]
    assert diff == pytest.approx(report.localization.error, rel=1e-4)
    assert "DIFFERS" in module_part


def test_bundle_replaces_an_earlier_bundle_but_no_other_folder(tmp_path: Path) -> None:
    model = models.ExportOnlyDivergence()
    onnx_path = tmp_path / "d.onnx"
    report = onnxproof.run(model, inputs=[SPEC], output=onnx_path, repro=False)
    cases = _cases(model, report, [0, 1, 2, 3, 4])
    target = tmp_path / "out"
    write_repro_bundle(target, onnx_path=onnx_path, cases=cases, tolerances=_tolerances(report))
    write_repro_bundle(target, onnx_path=onnx_path, cases=cases[:1], tolerances=_tolerances(report))
    assert len(json.loads((target / "cases.json").read_text())["cases"]) == 1
    # nothing half-written or moved aside is left beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.onnx", "out"]

    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match="not a repro bundle"):
        write_repro_bundle(other, onnx_path=onnx_path, cases=cases, tolerances=_tolerances(report))
    assert (other / "notes.txt").read_text() == "keep me"
    with pytest.raises(ValueError, match="no tolerance"):
        write_repro_bundle(tmp_path / "x", onnx_path=onnx_path, cases=cases, tolerances={})
    assert not (tmp_path / "x").exists()


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    model = models.ExportOnlyDivergence()
    report = onnxproof.run(model, inputs=[SPEC], output=tmp_path / "d.onnx", repro=False)
    cases = _cases(model, report, [0])
    with pytest.raises(FileNotFoundError):
        write_repro_bundle(
            tmp_path / "gone",
            onnx_path=tmp_path / "missing.onnx",
            cases=cases,
            tolerances=_tolerances(report),
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.onnx"]


def test_a_folder_that_only_looks_like_a_bundle_is_never_replaced(tmp_path: Path) -> None:
    """A cases.json of the user's own is no signature; nor is a real bundle the user has put a
    file of their own into: both are refused and every file is kept."""
    model = models.ExportOnlyDivergence()
    onnx_path = tmp_path / "d.onnx"
    report = onnxproof.run(model, inputs=[SPEC], output=onnx_path, repro=False)
    cases, tolerances = _cases(model, report, [0]), _tolerances(report)

    userdata = tmp_path / "userdata"
    userdata.mkdir()
    (userdata / "cases.json").write_text("{}")
    (userdata / "important.txt").write_text("keep me")
    with pytest.raises(UsageError, match="not a repro bundle"):
        write_repro_bundle(userdata, onnx_path=onnx_path, cases=cases, tolerances=tolerances)
    assert (userdata / "important.txt").read_text() == "keep me"

    bundle = write_repro_bundle(
        tmp_path / "b", onnx_path=onnx_path, cases=cases, tolerances=tolerances
    )
    (bundle / "notes").mkdir()
    (bundle / "notes" / "mine.txt").write_text("keep me too")
    with pytest.raises(UsageError, match="notes/mine.txt"):
        write_repro_bundle(bundle, onnx_path=onnx_path, cases=cases, tolerances=tolerances)
    assert (bundle / "notes" / "mine.txt").read_text() == "keep me too"


def test_repro_into_a_users_folder_is_refused_before_any_work(tmp_path: Path, cli: Any) -> None:
    from tests.conftest import ref

    onnx_path = tmp_path / "d.onnx"
    onnxproof.export(models.SimpleNet(), inputs=["input:float32[batch,10]"], output=onnx_path)
    userdata = tmp_path / "userdata"
    userdata.mkdir()
    (userdata / "cases.json").write_text("{}")
    (userdata / "important.txt").write_text("keep me")
    result = cli(
        "verify", ref("SimpleNet"), str(onnx_path), "-i", "input:float32[batch,10]",
        "--repro", str(userdata), "--json", str(tmp_path / "r.json"),
    )  # fmt: skip
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "not a repro bundle" in result.stderr
    assert sorted(p.name for p in userdata.iterdir()) == ["cases.json", "important.txt"]
    assert not (tmp_path / "r.json").exists()  # refused before the run


def test_a_users_folder_at_the_default_bundle_path_is_kept_and_the_verdict_stands(
    tmp_path: Path, cli: Any
) -> None:
    """Parity fails, so the bundle would go to <file>.repro, unasked: a folder of the user's own
    there is left as it is, and the run still ends with its verdict (1), not a usage error."""
    from tests.conftest import ref

    mine = tmp_path / "m.onnx.repro"
    mine.mkdir()
    (mine / "cases.json").write_text("{}")
    (mine / "notes.txt").write_text("keep me")
    result = cli("run", ref("Blocks"), "-i", "x:float32[batch,4]", "-o", str(tmp_path / "m.onnx"))
    assert result.exit_code == 1, result.stdout + result.stderr
    assert sorted(p.name for p in mine.iterdir()) == ["cases.json", "notes.txt"]
    assert "no repro bundle written" in result.stderr
