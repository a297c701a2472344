"""The Ray engine against the local one on 20k samples: equal reports, a worker lost mid-run,
a divergence planted in two shards only, and the message when Ray is missing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from onnxproof.engines.ray import ModelRecipe, verify_dataset_ray
from onnxproof.errors import ModelLoadError, UsageError
from onnxproof.results import DatasetReport
from onnxproof.verification.dataset import DatasetOutcome
from onnxproof.verification.tolerance import TolerancePolicy
from tests.engines.conftest import BATCH, SHARDS, SPECS, Exported, planted_indices, run_local

TOTAL = SHARDS * 1000

#: TinyMLP's layers, in a process that kills itself on its tenth batch while the marker file is
#: missing: a worker lost mid-task, as a node lost from a cluster would be. Written to a file so
#: the marker's path reaches the Ray workers with the model's code.
CRASHES_ONCE = """
import os
from pathlib import Path
from torch import nn


class CrashesOnce(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 4))
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        if self.calls == 10 and not MARKER.exists():
            MARKER.touch()
            os._exit(1)
        return self.net(x)
"""


def run_ray(model: Exported, data: Path, reference: str | None = None) -> DatasetOutcome:
    return verify_dataset_ray(
        model=ModelRecipe(reference=reference or model.reference, state=model.module.state_dict()),
        onnx_path=model.onnx_path,
        data=data,
        specs=SPECS,
        output_names=("output",),
        policy=TolerancePolicy(),
        batch_size=BATCH,
        workers=2,
    )


def figures(report: DatasetReport) -> list[dict[str, Any]]:
    return [o.to_dict() for o in report.outputs]


@pytest.fixture(scope="module")
def local_tiny(shards: Path, exported: dict[str, Exported]) -> DatasetReport:
    return run_local(exported["TinyMLP"], shards).report


def test_ray_matches_local_figure_for_figure(
    ray_cluster: Any, shards: Path, exported: dict[str, Exported], local_tiny: DatasetReport
) -> None:
    model = exported["TinyMLP"]
    local = local_tiny
    remote = run_ray(model, shards).report
    assert local.passed and remote.passed
    assert local.samples == remote.samples == remote.samples_expected == TOTAL
    assert local.batches == remote.batches == TOTAL // BATCH
    assert remote.engine == "ray" and remote.workers == 2 and local.engine == "local"
    # Same batches, merged in the same order: bit-identical, p99 and float sums included.
    assert figures(remote) == figures(local)
    assert remote.outputs[0].max_abs_diff > 0  # the figures compared are not all zeros


def test_worker_killed_mid_run_loses_and_repeats_nothing(
    ray_cluster: Any,
    shards: Path,
    exported: dict[str, Exported],
    local_tiny: DatasetReport,
    tmp_path: Path,
) -> None:
    model = exported["TinyMLP"]
    marker = tmp_path / "crashed"
    code = tmp_path / "crashes_once.py"
    code.write_text(f"MARKER = __import__('pathlib').Path({str(marker)!r})\n{CRASHES_ONCE}")
    remote = run_ray(model, shards, reference=f"{code}:CrashesOnce").report
    assert marker.exists()  # a worker did die mid-task
    assert remote.passed and remote.errors == ()
    assert remote.samples == remote.samples_expected == TOTAL
    assert figures(remote) == figures(local_tiny)


def test_divergence_in_two_shards_found_by_both_engines(
    ray_cluster: Any, shards: Path, exported: dict[str, Exported]
) -> None:
    model = exported["DivergesAboveFour"]
    local, remote = run_local(model, shards), run_ray(model, shards)
    for outcome in (local, remote):
        report = outcome.report
        assert not report.passed and report.samples == TOTAL
        (out,) = report.outputs
        worst = [w.index for w in out.worst_samples]
        # every planted sample (and only they) disagree: the worst five are exactly them
        assert sorted(worst) == planted_indices()
        assert worst[0] == 3 * 1000 + 999  # feature 0 = 8.0: the largest error
        assert outcome.failing_batch is not None
        assert outcome.failing_batch["x"][:, 0].max() > 4
    assert figures(remote.report) == figures(local.report)


def test_cli_verify_on_ray_reports_engine_workers_and_counts(
    cli: Any, ray_cluster: Any, exported: dict[str, Exported], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(1)
    for i in range(3):
        np.savez(data / f"{i}.npz", x=rng.standard_normal((70, 10)).astype(np.float32))
    model = exported["TinyMLP"]
    args = ["verify", model.reference, str(model.onnx_path), "--data", str(data)]
    result = cli(*args, "--engine", "ray", "--workers", "2", "--json", str(tmp_path / "r.json"))
    assert result.exit_code == 0, result.stdout + result.stderr
    report = result.report["data"]
    assert report["engine"] == "ray" and report["workers"] == 2
    assert report["samples"] == report["samples_expected"] == 210 and report["passed"]


def test_model_that_does_not_load_on_the_workers_is_a_user_error(
    ray_cluster: Any, shards: Path, exported: dict[str, Exported], tmp_path: Path
) -> None:
    with pytest.raises(ModelLoadError, match=r"on a Ray worker: model file .*gone\.py"):
        run_ray(exported["TinyMLP"], shards, reference=f"{tmp_path / 'gone.py'}:TinyMLP")


def test_without_ray_the_message_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, shards: Path, exported: dict[str, Exported]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    with pytest.raises(UsageError) as caught:
        run_ray(exported["TinyMLP"], shards)
    assert "pip install 'onnxproof[ray]'" in (caught.value.hint or "")
    assert "--engine ray" in str(caught.value)
