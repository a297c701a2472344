"""Shard plans cut the same batches the local reader streams; Parquet data read locally too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from onnxproof.data.files import open_data
from onnxproof.data.shards import group_batches, plan_shards, read_planned
from onnxproof.errors import DataError
from onnxproof.specs import parse_input_specs

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

SEQ = parse_input_specs(("x:float32[batch,seq,3]", "ids:int64[batch]"))


def _write(folder: Path) -> None:
    """Mixed shards: mapped and compressed .npz, Parquet (lists and tensors), and a dynamic
    dim that changes size between files, so batches must end early there."""
    rng = np.random.default_rng(0)
    for i, (n, seq) in enumerate([(37, 4), (50, 4), (3, 6), (41, 6), (20, 4)]):
        x = rng.standard_normal((n, seq, 3)).astype(np.float32)
        ids = np.arange(n, dtype=np.int64) + 1000 * i
        if i == 1:
            np.savez_compressed(folder / f"{i}.npz", x=x, ids=ids)
        elif i == 3:
            column = pa.array(x.tolist(), type=pa.list_(pa.list_(pa.float32())))
            pq.write_table(
                pa.table({"x": column, "ids": ids}), folder / f"{i}.parquet", row_group_size=16
            )
        elif i == 4:
            tensor = pa.FixedShapeTensorArray.from_numpy_ndarray(x)
            pq.write_table(pa.table({"x": tensor, "ids": ids}), folder / f"{i}.parquet")
        else:
            np.savez(folder / f"{i}.npz", x=x, ids=ids)


@pytest.mark.parametrize("max_samples", [None, 100])
def test_plan_reads_the_batches_open_data_streams(tmp_path: Path, max_samples: int | None) -> None:
    _write(tmp_path)
    source, batches = open_data(tmp_path, SEQ, batch_size=16, max_samples=max_samples)
    local = list(batches)
    plan = plan_shards(tmp_path, SEQ, batch_size=16, max_samples=max_samples)
    assert plan.samples == sum(len(b["ids"]) for b in local) == (max_samples or 151)
    planned = [
        (p, arrays)
        for group in group_batches(plan, 3)
        for p, arrays in read_planned(plan, SEQ, group)
    ]
    assert len(planned) == len(local)
    first = 0
    for (p, arrays), batch in zip(planned, local, strict=True):
        assert p.first_index == first
        first += p.size
        for name in ("x", "ids"):
            np.testing.assert_array_equal(arrays[name], batch[name])


def test_groups_never_start_mid_batch_and_cover_every_batch(tmp_path: Path) -> None:
    _write(tmp_path)
    plan = plan_shards(tmp_path, SEQ, batch_size=8)
    groups = group_batches(plan, 4)
    assert [i for g in groups for i in g] == list(range(len(plan.batches)))


def test_parquet_file_read_locally(tmp_path: Path) -> None:
    x = np.random.default_rng(0).standard_normal((10, 5, 3)).astype(np.float32)
    column = pa.array(x.tolist(), type=pa.list_(pa.list_(pa.float32())))
    pq.write_table(pa.table({"x": column, "ids": np.arange(10)}), tmp_path / "d.parquet")
    source, batches = open_data(tmp_path / "d.parquet", SEQ, batch_size=4)
    assert source.samples == 10
    np.testing.assert_array_equal(np.concatenate([b["x"] for b in batches]), x)


def test_parquet_errors_name_the_problem(tmp_path: Path) -> None:
    pq.write_table(pa.table({"y": [1.0]}), tmp_path / "a.parquet")
    with pytest.raises(DataError, match=r"no column for input\(s\) \['x', 'ids'\]"):
        open_data(tmp_path / "a.parquet", SEQ)
    ragged = pa.array(
        [[[1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0]] * 2], type=pa.list_(pa.list_(pa.float32()))
    )
    pq.write_table(pa.table({"x": ragged, "ids": [0, 1]}), tmp_path / "b.parquet")
    with pytest.raises(DataError, match="lists of different lengths"):
        list(open_data(tmp_path / "b.parquet", SEQ)[1])
    (tmp_path / "c.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        open_data(tmp_path / "c.parquet", SEQ)
    x64 = pa.array(np.zeros((2, 1, 3)).tolist(), type=pa.list_(pa.list_(pa.float64())))
    pq.write_table(pa.table({"x": x64, "ids": [0, 1]}), tmp_path / "d.parquet")
    with pytest.raises(DataError, match="float64"):
        list(open_data(tmp_path / "d.parquet", SEQ)[1])
    # A damaged data page (the footer intact) is damage, not an internal error.
    one = parse_input_specs(["x:float32[batch]"])
    pq.write_table(pa.table({"x": np.arange(4000, dtype=np.float32)}), tmp_path / "e.parquet")
    damaged = bytearray((tmp_path / "e.parquet").read_bytes())
    damaged[4:20] = b"\xff" * 16  # the first page's header, just after the magic bytes
    (tmp_path / "e.parquet").write_bytes(bytes(damaged))
    with pytest.raises(DataError, match="is damaged: reading its rows failed"):
        list(open_data(tmp_path / "e.parquet", one)[1])


def test_images_and_pickles_cannot_be_sharded(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"\x89PNG")
    with pytest.raises(DataError, match="no .npy, .npz or .parquet files"):
        plan_shards(tmp_path, SEQ)
    (tmp_path / "d.pt").write_bytes(b"x")
    with pytest.raises(DataError, match="cannot be sharded"):
        plan_shards(tmp_path / "d.pt", SEQ)


def test_a_list_column_reads_in_a_fresh_interpreter(tmp_path: Path) -> None:
    """Nothing else has imported pyarrow.compute there (in this session something has): the
    reader must import what it uses."""
    import subprocess
    import sys

    x = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    column = pa.array(x.tolist(), type=pa.list_(pa.list_(pa.float32())))
    pq.write_table(pa.table({"x": column, "ids": np.arange(2)}), tmp_path / "d.parquet")
    code = (
        "import sys\n"
        "from onnxproof.data.files import open_data\n"
        "from onnxproof.specs import parse_input_specs\n"
        "specs = parse_input_specs(('x:float32[batch,seq,3]', 'ids:int64[batch]'))\n"
        "source, batches = open_data(sys.argv[1], specs)\n"
        "print(sum(len(b['x']) for b in batches))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "d.parquet")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "2"
