"""onnxproof sweep over a six-model zoo: verdicts, crash and hang as rows, parallel runs, JUnit,
and reuse of unchanged passing reports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from click.testing import CliRunner

from onnxproof.cli import app
from onnxproof.sweeping import sweep
from tests.sweeping.zoo import HANG_TIMEOUT, MODELS, PASSING, write_zoo

SCHEMA = xmlschema.XMLSchema(Path(__file__).parents[1] / "report" / "junit.xsd")


@dataclass
class FirstRun:
    zoo: Path
    outdir: Path
    exit_code: int
    stdout: str
    summary: dict[str, Any]
    rows: dict[str, dict[str, Any]]
    junit: str


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> FirstRun:
    folder = tmp_path_factory.mktemp("zoo")
    zoo = write_zoo(folder)
    outdir, junit = folder / "out", folder / "sweep.xml"
    args = ["sweep", str(zoo), "--jobs", "2", "-o", str(outdir), "--junit", str(junit)]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    summary = json.loads((outdir / "sweep.json").read_text())
    rows = {row["name"]: row for row in summary["models"]}
    return FirstRun(zoo, outdir, result.exit_code, result.stdout, summary, rows, junit.read_text())


def test_each_model_gets_its_verdict(first: FirstRun) -> None:
    verdicts = {name: row["verdict"] for name, row in first.rows.items()}
    assert verdicts == {
        "mlp": "pass",
        "cnn": "pass",
        "gru": "pass",
        "diverges": "fail",
        "crashes": "crashed",
        "hangs": "timed-out",
    }
    assert first.exit_code == 1
    assert first.summary["status"] == "fail"
    assert "output-mismatch" in first.rows["diverges"]["finding_codes"]
    assert first.rows["crashes"]["detail"] == "crashed (signal 11: SIGSEGV)"
    assert first.rows["hangs"]["detail"] == f"timed out after {HANG_TIMEOUT}s"
    # Each run that ended on its own left its own report; the hang was stopped at its limit.
    for name in (*PASSING, "diverges"):
        report = json.loads((first.outdir / name / "report.json").read_text())
        assert report["status"] == first.rows[name]["verdict"]
    assert first.rows["hangs"]["seconds"] < HANG_TIMEOUT + 10


def test_the_table_has_a_row_per_model(first: FirstRun) -> None:
    lines = first.stdout.splitlines()
    row = {name: next(line for line in lines if line.startswith(name + " ")) for name in MODELS}
    assert "pass" in row["mlp"]
    assert "fail" in row["diverges"] and "output-mismatch" in row["diverges"]
    assert "crashed (signal 11: SIGSEGV)" in row["crashes"]
    assert f"timed out after {HANG_TIMEOUT}s" in row["hangs"]
    assert "FAIL · 6 models: 3 pass, 1 fail, 1 crashed, 1 timed-out" in first.stdout


def test_models_ran_side_by_side(first: FirstRun) -> None:
    spans = [(row["started_at"], row["finished_at"]) for row in first.rows.values()]
    overlapping = [
        (a, b) for i, a in enumerate(spans) for b in spans[i + 1 :] if a[0] < b[1] and b[0] < a[1]
    ]
    assert overlapping, spans
    assert first.summary["seconds"] < sum(row["seconds"] for row in first.rows.values())


def test_junit_has_one_suite_per_model(first: FirstRun) -> None:
    SCHEMA.validate(first.junit)
    suites = ET.fromstring(first.junit).findall("testsuite")
    assert [s.get("name") for s in suites] == [f"onnxproof: {name}" for name in MODELS]
    by_name = {s.get("name", "").split(": ")[1]: s for s in suites}
    for name in PASSING:
        assert by_name[name].get("failures") == "0" and by_name[name].get("errors") == "0"
    assert int(by_name["diverges"].get("failures", "0")) >= 1
    for name, kind in (("crashes", "crashed"), ("hangs", "timed-out")):
        error = by_name[name].find("testcase/error")
        assert error is not None and error.get("type") == kind


def test_a_second_run_reuses_only_unchanged_passing_models(first: FirstRun) -> None:
    again = sweep(first.zoo, jobs=2, outdir=first.outdir)
    rows = {row.name: row for row in again.models}
    assert {n for n, r in rows.items() if r.cached} == set(PASSING)
    assert all(rows[n].shown_verdict == "pass (cached)" for n in PASSING)
    # The failures ran again (a failing report is never reused), with the same outcomes.
    for name in ("diverges", "crashes", "hangs"):
        assert rows[name].started_at is not None
        assert rows[name].started_at > first.rows[name]["finished_at"]
        assert rows[name].verdict == first.rows[name]["verdict"]

    # A changed file runs its model again, and only that one. (The zoo keeps just the passing
    # models from here on: the failures would only run again, at the cost of seconds.)
    write_zoo(first.zoo.parent, PASSING)
    source = first.zoo.parent / "cnn.py"
    source.write_text(source.read_text() + "\n# changed\n")
    changed = {row.name: row for row in sweep(first.zoo, jobs=2, outdir=first.outdir).models}
    assert {n for n, r in changed.items() if r.cached} == {"mlp", "gru"}
    assert changed["cnn"].verdict == "pass" and changed["cnn"].started_at is not None

    forced = sweep(first.zoo, jobs=2, outdir=first.outdir, force=True)
    assert [(row.name, row.cached) for row in forced.models] == [(n, False) for n in PASSING]
    assert forced.status == "pass"
