"""The Ray engine: each model a Ray task running the same isolated process as the local engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onnxproof.sweeping import sweep
from tests.sweeping.zoo import write_zoo


@pytest.fixture
def ray() -> Iterator[Any]:
    ray = pytest.importorskip(
        "ray", reason="the Ray engine needs ray (pip install 'onnxproof[ray]')"
    )
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def test_each_model_is_a_ray_task_and_a_crash_is_a_row(ray: Any, tmp_path: Path) -> None:
    zoo = write_zoo(tmp_path, ("mlp", "crashes"))
    report = sweep(zoo, engine="ray", jobs=2, outdir=tmp_path / "out")
    assert [(r.name, r.verdict) for r in report.models] == [
        ("mlp", "pass"),
        ("crashes", "crashed"),
    ]
    assert report.engine == "ray" and report.status == "fail"
    assert ray.is_initialized()  # a Ray the caller started is left running
    assert (tmp_path / "out" / "mlp" / "report.json").is_file()
