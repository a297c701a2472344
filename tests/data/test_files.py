"""open_data and iter_batches on tiny files in tmp_path: formats, batching, errors, memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch

from onnxproof.data.files import DataSource, ImageSpec, iter_batches, open_data
from onnxproof.errors import DataError
from onnxproof.specs import parse_input_specs

SPECS = parse_input_specs(["x:float32[batch,4]", "ids:int64[batch,seq]"])
X_ONLY = parse_input_specs(["x:float32[batch,4]"])


def _data(n: int = 10) -> dict[str, np.ndarray]:
    x = np.arange(n * 4, dtype=np.float32).reshape(n, 4)
    ids = np.arange(n * 3, dtype=np.int64).reshape(n, 3)
    return {"x": x, "ids": ids}


def _sizes(batches: list[dict[str, np.ndarray]]) -> list[int]:
    return [len(b["x"]) for b in batches]


@pytest.mark.parametrize("save", [np.savez, np.savez_compressed])
def test_npz_round_trip_in_batches(tmp_path: Path, save) -> None:
    path = tmp_path / "calib.npz"
    data = _data()
    save(path, ids=data["ids"], x=data["x"])  # file order differs from spec order
    source, batches = open_data(path, SPECS, batch_size=3)
    got = list(batches)
    assert source == DataSource(description="calib.npz (2 inputs, 10 samples)", samples=10)
    assert _sizes(got) == [3, 3, 3, 1]
    assert all(list(b) == ["x", "ids"] for b in got)
    np.testing.assert_array_equal(np.concatenate([b["x"] for b in got]), data["x"])
    np.testing.assert_array_equal(np.concatenate([b["ids"] for b in got]), data["ids"])
    source, batches = open_data(path, SPECS, batch_size=3, max_samples=7)
    limited = list(batches)
    assert _sizes(limited) == [3, 3, 1] and source.samples == 7
    np.testing.assert_array_equal(np.concatenate([b["x"] for b in limited]), data["x"][:7])


def test_npy_single_input(tmp_path: Path) -> None:
    path = tmp_path / "x.npy"
    np.save(path, _data(5)["x"])
    source, batches = open_data(path, X_ONLY, batch_size=2)
    got = list(batches)
    assert source.samples == 5 and _sizes(got) == [2, 2, 1]
    np.testing.assert_array_equal(got[2]["x"], _data(5)["x"][4:])
    with pytest.raises(DataError, match="one array.*2 inputs"):
        open_data(path, SPECS)


def test_directory_of_npy_samples_and_batches(tmp_path: Path) -> None:
    x = _data(6)["x"]
    folder = tmp_path / "samples"
    folder.mkdir()
    for i in range(3):  # one sample per file (rank 1 = spec rank - 1)
        np.save(folder / f"s{i}.npy", x[i])
    np.save(folder / "s3_batch.npy", x[3:])  # a batch of 3 (rank 2 = spec rank)
    (folder / "README.txt").write_text("ignored")
    source, batches = open_data(folder, X_ONLY, batch_size=4)
    got = list(batches)
    assert source.samples is None and "4 array files" in source.description
    assert _sizes(got) == [4, 2]
    np.testing.assert_array_equal(np.concatenate([b["x"] for b in got]), x)


def test_directory_of_npz_files(tmp_path: Path) -> None:
    data = _data(4)
    for i in range(4):
        np.savez(tmp_path / f"{i:03d}.npz", x=data["x"][i], ids=data["ids"][i])
    got = list(open_data(tmp_path, SPECS, batch_size=3)[1])
    assert _sizes(got) == [3, 1]
    np.testing.assert_array_equal(np.concatenate([b["ids"] for b in got]), data["ids"])


def test_pt_dict_tensor_and_list(tmp_path: Path) -> None:
    data = _data(5)
    tensors = {k: torch.from_numpy(v) for k, v in data.items()}
    torch.save(tensors, tmp_path / "d.pt")
    source, batches = open_data(tmp_path / "d.pt", SPECS, batch_size=2)
    got = list(batches)
    assert source.samples == 5 and _sizes(got) == [2, 2, 1]
    np.testing.assert_array_equal(np.concatenate([b["ids"] for b in got]), data["ids"])
    assert all(isinstance(b["x"], np.ndarray) for b in got)

    torch.save(tensors["x"], tmp_path / "t.pt")
    assert _sizes(list(open_data(tmp_path / "t.pt", X_ONLY, batch_size=4)[1])) == [4, 1]

    rows = [(tensors["x"][i], tensors["ids"][i]) for i in range(5)]  # samples, forward order
    torch.save(rows, tmp_path / "l.pt")
    source, batches = open_data(tmp_path / "l.pt", SPECS, batch_size=4)
    got = list(batches)
    assert source.samples is None and _sizes(got) == [4, 1]
    np.testing.assert_array_equal(np.concatenate([b["x"] for b in got]), data["x"])


def test_images_with_pillow(tmp_path: Path) -> None:
    image_module = pytest.importorskip("PIL.Image")
    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    for i, color in enumerate(colors):
        image_module.new("RGB", (8, 6), color).save(tmp_path / f"img{i}.png")
    image_module.new("L", (3, 3), 255).save(tmp_path / "img3.jpg")  # grayscale -> RGB
    specs = parse_input_specs(["pixels:float32[batch,3,4,5]"])
    spec = ImageSpec.parse("size=4x5,layout=NCHW,mean=0.5/0.5/0.5,std=0.25/0.25/0.25")
    source, batches = open_data(tmp_path, specs, batch_size=3, image_spec=spec)
    got = list(batches)
    assert source.samples == 4 and _sizes_of(got, "pixels") == [3, 1]
    first = got[0]["pixels"]
    assert first.dtype == np.float32 and first.shape == (3, 3, 4, 5)
    np.testing.assert_allclose(first[0, :, 0, 0], [2.0, -2.0, -2.0], atol=1e-6)  # red
    np.testing.assert_allclose(first[2, :, 2, 3], [-2.0, -2.0, 2.0], atol=1e-6)  # blue
    np.testing.assert_allclose(got[1]["pixels"][0], 2.0, atol=1e-2)  # white (jpeg)

    nhwc = parse_input_specs(["pixels:float32[batch,4,5,3]"])
    spec_nhwc = ImageSpec(size=(4, 5), layout="NHWC")
    assert open_data(tmp_path, nhwc, image_spec=spec_nhwc)[1].__next__()["pixels"].shape == (
        4,
        4,
        5,
        3,
    )
    with pytest.raises(DataError, match="axis 2 is 4, not 8"):
        open_data(tmp_path, parse_input_specs(["p:float32[b,3,8,8]"]), image_spec=spec)


def _sizes_of(batches: list[dict[str, np.ndarray]], name: str) -> list[int]:
    return [len(b[name]) for b in batches]


def test_images_need_an_image_spec(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"not read")
    with pytest.raises(DataError, match="image") as info:
        open_data(tmp_path, parse_input_specs(["p:float32[b,3,8,8]"]))
    assert "size=224x224" in (info.value.hint or "")


def test_image_spec_parse() -> None:
    spec = ImageSpec.parse("size=224x256, layout=nhwc, mean=0/0/0, std=1/1/1, scale=1/255")
    assert spec == ImageSpec(
        size=(224, 256), layout="NHWC", mean=(0, 0, 0), std=(1, 1, 1), scale=1 / 255
    )
    assert ImageSpec.parse("size=32").size == (32, 32)
    for bad in (
        "layout=NCHW",
        "size=axb",
        "size=4x4,colour=rgb",
        "size=4,std=0",
        "size=4,mean=1/2",
    ):
        with pytest.raises(DataError):
            ImageSpec.parse(bad)


def test_wrong_dtype(tmp_path: Path) -> None:
    path = tmp_path / "calib.npz"
    np.savez(path, x=_data()["x"].astype(np.float64), ids=_data()["ids"])
    with pytest.raises(DataError) as info:
        open_data(path, SPECS)
    message = str(info.value)
    assert "calib.npz" in message and "'x'" in message and "float64" in message
    assert "x:float32[batch,4]" in message and ".astype(np.float32)" in message


def test_wrong_static_dim(tmp_path: Path) -> None:
    path = tmp_path / "calib.npz"
    np.savez(path, x=np.zeros((3, 5), np.float32), ids=_data(3)["ids"])
    with pytest.raises(DataError, match=r"calib\.npz.*\[3, 5\].*x:float32\[batch,4\].*5, not 4"):
        open_data(path, SPECS)


def test_dynamic_dim_may_vary_but_shared_dim_must_agree(tmp_path: Path) -> None:
    path = tmp_path / "ok.npz"
    np.savez(path, x=_data(3)["x"], ids=np.zeros((3, 17), np.int64))  # seq is dynamic
    assert _sizes(list(open_data(path, SPECS)[1])) == [3]
    specs = parse_input_specs(["a:float32[batch,seq]", "m:bool[batch,seq]"])
    with pytest.raises(DataError, match="dim 'seq' is 5 in input 'a' but 6"):
        list(
            iter_batches([{"a": np.zeros((2, 5), np.float32), "m": np.zeros((2, 6), bool)}], specs)
        )


def test_missing_and_unexpected_names(tmp_path: Path) -> None:
    path = tmp_path / "calib.npz"
    np.savez(path, x=_data()["x"], labels=np.zeros(10))
    with pytest.raises(DataError, match=r"calib\.npz.*missing \['ids'\].*unexpected \['labels'\]"):
        open_data(path, SPECS)


def test_wrong_rank(tmp_path: Path) -> None:
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((2, 4, 1), np.float32))
    with pytest.raises(DataError, match=r"x\.npy.*rank 3.*rank 2 for a batch or 1 for one sample"):
        open_data(path, X_ONLY)


def test_unknown_extension_and_missing_path(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("1,2,3\n")
    with pytest.raises(DataError, match=r"data\.csv.*unsupported") as info:
        open_data(path, X_ONLY)
    assert ".npz" in (info.value.hint or "") and ".pt" in (info.value.hint or "")
    with pytest.raises(DataError, match="does not exist"):
        open_data(tmp_path / "nope.npz", X_ONLY)


def test_static_batch_axis_fixes_the_batch_size(tmp_path: Path) -> None:
    path = tmp_path / "x.npy"
    np.save(path, _data(3)["x"])
    got = list(open_data(path, parse_input_specs(["x:float32[1,4]"]), batch_size=32)[1])
    assert _sizes(got) == [1, 1, 1]
    with pytest.raises(DataError, match="static at 2"):
        list(open_data(path, parse_input_specs(["x:float32[2,4]"]))[1])


def test_iter_batches_dicts_tuples_and_tensors() -> None:
    data = _data(7)
    samples = [{"x": data["x"][i], "ids": data["ids"][i]} for i in range(7)]
    assert _sizes(list(iter_batches(samples, SPECS, batch_size=3))) == [3, 3, 1]
    chunks = [(torch.from_numpy(data["x"][i : i + 4]), data["ids"][i : i + 4]) for i in (0, 4)]
    got = list(iter_batches(chunks, SPECS, batch_size=5, max_samples=6))
    assert _sizes(got) == [5, 1]
    np.testing.assert_array_equal(np.concatenate([b["x"] for b in got]), data["x"][:6])
    with pytest.raises(DataError, match="item 0 has 3 values"):
        list(iter_batches([(data["x"], data["ids"], data["ids"])], SPECS))
    with pytest.raises(DataError, match="item 1: input 'x' holds float64"):
        list(iter_batches([data["x"][:1], data["x"][:1].astype(np.float64)], X_ONLY))


def test_iter_batches_torch_dataloader() -> None:
    dataset = torch.utils.data.TensorDataset(torch.arange(20.0).reshape(5, 4))
    loader = torch.utils.data.DataLoader(dataset, batch_size=2)  # yields [x] lists
    got = list(iter_batches(loader, X_ONLY, batch_size=4))
    assert _sizes(got) == [4, 1]
    assert got[1]["x"].tolist() == [[16.0, 17.0, 18.0, 19.0]]


def test_changing_dynamic_size_ends_a_batch() -> None:
    specs = parse_input_specs(["t:int64[batch,seq]"])
    items = [np.zeros(3, np.int64), np.zeros(3, np.int64), np.zeros(5, np.int64)]
    got = list(iter_batches(items, specs, batch_size=8))
    assert [b["t"].shape for b in got] == [(2, 3), (1, 5)]


def test_memory_stays_bounded_on_a_mapped_npy(tmp_path: Path) -> None:
    path = tmp_path / "big.npy"
    np.save(path, np.arange(20_000 * 64, dtype=np.float32).reshape(20_000, 64))
    file_bytes = path.stat().st_size
    mapped = np.load(path, mmap_mode="r")
    batch_size, seen = 100, 0
    tracemalloc.start()
    try:
        _, batches = open_data(path, X_ONLY_WIDE, batch_size=batch_size)
        for batch in batches:
            x = batch["x"]
            assert len(x) <= batch_size and x.flags.owndata  # a copy, not a view of the map
            assert not np.shares_memory(x, mapped)
            assert x[0, 0] == seen * 64
            seen += len(x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == 20_000
    assert peak < file_bytes / 20, f"peak {peak} bytes for a {file_bytes}-byte file"


X_ONLY_WIDE = parse_input_specs(["x:float32[batch,64]"])


def test_compressed_npz_streams_in_batches(tmp_path: Path) -> None:
    path = tmp_path / "big.npz"
    np.savez_compressed(path, x=np.ones((20_000, 64), dtype=np.float32))
    tracemalloc.start()
    try:
        count = sum(len(b["x"]) for b in open_data(path, X_ONLY_WIDE, batch_size=100)[1])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert peak < 20_000 * 64 * 4 / 20
