"""Writing the .onnx: links followed, devices and pipes written through, permissions kept, and only
the side data file the previous model used is ever removed."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import onnx.helper as oh
import onnx.numpy_helper as onh
import pytest

import onnxproof.exporting._write as write
from onnxproof.errors import UsageError
from onnxproof.exporting._write import finalize
from tests.test_outputs import char_device, leftovers, read_fifo


def tiny_model() -> onnx.ModelProto:
    """y = x + w, with w a 64-float initializer (256 bytes: 'large' once the limit is lowered)."""
    weight = onh.from_array(np.arange(64, dtype=np.float32), name="w")
    graph = oh.make_graph(
        [oh.make_node("Add", ["x", "w"], ["y"])],
        "tiny",
        [oh.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [64])],
        [oh.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [64])],
        [weight],
    )
    return oh.make_model(graph, opset_imports=[oh.make_opsetid("", 18)])


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def large(monkeypatch: pytest.MonkeyPatch) -> None:
    """Treat the tiny model as past the single-file limit, so it gets a side data file."""
    monkeypatch.setattr(write, "SINGLE_FILE_LIMIT", 100)


def assert_loads(path: Path) -> None:
    onnx.checker.check_model(str(path))
    weight = onh.to_array(onnx.load(str(path)).graph.initializer[0], base_dir=str(path.parent))
    assert weight[-1] == 63


def test_symlink_destination_replaces_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    real = tmp_path / "models" / "net.onnx"
    real.write_bytes(b"old")
    link = tmp_path / "net.onnx"
    link.symlink_to(real)
    assert finalize(tiny_model(), {"k": "v"}, link) is None
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert_loads(real)
    assert leftovers(tmp_path) == [] and leftovers(tmp_path / "models") == []


def test_symlink_destination_with_side_file(tmp_path: Path, large: None) -> None:
    (tmp_path / "models").mkdir()
    real = tmp_path / "models" / "net.onnx"
    link = tmp_path / "alias.onnx"
    link.symlink_to(real)
    # the data sits beside the real file, under the name the model refers to
    assert finalize(tiny_model(), {}, link) == "net.onnx.data"
    assert link.is_symlink()
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["net.onnx", "net.onnx.data"]
    assert_loads(real)


def test_character_device_is_written_through_not_replaced(tmp_path: Path) -> None:
    device = char_device(tmp_path)
    before = os.stat(device)
    finalize(tiny_model(), {}, device)
    after = os.stat(device)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert after.st_ino == before.st_ino
    assert not Path(f"{device}.data").exists()


def test_fifo_is_written_through(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.onnx"
    os.mkfifo(fifo)
    thread, received = read_fifo(fifo)
    finalize(tiny_model(), {"k": "v"}, fifo)
    thread.join(timeout=10)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    model = onnx.load_from_string(bytes(received))
    assert {p.key: p.value for p in model.metadata_props} == {"k": "v"}


def test_device_refused_when_a_side_file_is_needed(tmp_path: Path, large: None) -> None:
    device = char_device(tmp_path)
    with pytest.raises(UsageError, match="must go to a side file"):
        finalize(tiny_model(), {}, device)


def test_new_file_mode_follows_umask(tmp_path: Path, umask: None, large: None) -> None:
    finalize(tiny_model(), {}, tmp_path / "big.onnx")
    assert stat.S_IMODE((tmp_path / "big.onnx").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "big.onnx.data").stat().st_mode) == 0o644


def test_small_new_file_mode_follows_umask(tmp_path: Path, umask: None) -> None:
    finalize(tiny_model(), {}, tmp_path / "m.onnx")
    assert stat.S_IMODE((tmp_path / "m.onnx").stat().st_mode) == 0o644


def test_overwritten_file_keeps_its_mode(tmp_path: Path, umask: None) -> None:
    out = tmp_path / "m.onnx"
    out.write_bytes(b"old")
    out.chmod(0o640)
    finalize(tiny_model(), {}, out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert_loads(out)


def test_unrelated_side_file_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "m.onnx"
    unrelated = tmp_path / "m.onnx.data"
    unrelated.write_bytes(b"someone's data")
    finalize(tiny_model(), {}, out)  # nothing was at m.onnx: m.onnx.data is not ours
    assert unrelated.read_bytes() == b"someone's data"
    finalize(tiny_model(), {}, out)  # the model there now is one file: still not ours
    assert unrelated.read_bytes() == b"someone's data"
    assert_loads(out)


def test_side_folder_is_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "m.onnx.data"
    folder.mkdir()
    (folder / "keep.txt").write_text("keep")
    finalize(tiny_model(), {}, tmp_path / "m.onnx")
    assert (folder / "keep.txt").read_text() == "keep"
    assert_loads(tmp_path / "m.onnx")


def test_side_file_of_the_replaced_model_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "m.onnx"
    monkeypatch.setattr(write, "SINGLE_FILE_LIMIT", 100)
    assert finalize(tiny_model(), {}, out) == "m.onnx.data"
    monkeypatch.undo()
    assert finalize(tiny_model(), {}, out) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]
    assert_loads(out)


def test_side_file_replaced_in_place_and_nothing_left_behind(tmp_path: Path, large: None) -> None:
    out = tmp_path / "m.onnx"
    finalize(tiny_model(), {"run": "1"}, out)
    (tmp_path / "m.onnx.data").chmod(0o600)
    finalize(tiny_model(), {"run": "2"}, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "m.onnx.data"]
    assert stat.S_IMODE((tmp_path / "m.onnx.data").stat().st_mode) == 0o600
    assert {p.key: p.value for p in onnx.load(str(out)).metadata_props} == {"run": "2"}
    assert_loads(out)
