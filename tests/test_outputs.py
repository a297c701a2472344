"""Output paths: clashes and unwritable places refused up front; atomic writes that respect links,
devices, pipes and permissions."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from onnxproof.errors import OnnxproofError, UsageError
from onnxproof.outputs import atomic_write, check_paths, reference_files
from onnxproof.report.json_report import write_json


class _Record:
    def __init__(self, **fields: object) -> None:
        self.fields = fields

    def to_dict(self) -> dict[str, object]:
        return dict(self.fields)


@pytest.fixture
def umask() -> Iterator[None]:
    """Run with umask 022 (a common default), restoring the caller's afterwards."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def char_device(tmp_path: Path) -> Path:
    """A private twin of /dev/null: a regression must never get the chance to replace the real one."""
    if os.geteuid() != 0:
        return Path("/dev/null")  # replacing it needs root, so a regression fails harmlessly
    path = tmp_path / "null"
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    return path


def read_fifo(path: Path) -> tuple[threading.Thread, bytearray]:
    """Read a FIFO in a thread: its open waits for a writer, then it drains until the writer closes."""
    received = bytearray()

    def drain() -> None:
        with open(path, "rb") as pipe:
            while chunk := pipe.read(65536):
                received.extend(chunk)

    thread = threading.Thread(target=drain, daemon=True)
    thread.start()
    return thread, received


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# -- check_paths -----------------------------------------------------------------------------------


def test_usage_error_is_a_user_error() -> None:
    assert issubclass(UsageError, OnnxproofError) and UsageError("x").exit_code == 2


def test_two_outputs_on_one_path_refused(tmp_path: Path) -> None:
    x = tmp_path / "x"
    with pytest.raises(UsageError, match=r"--json .*x would overwrite -o .*x"):
        check_paths(inputs=[], outputs={"-o": x, "--json": x}, onnx_output="-o")


def test_output_on_an_input_refused(tmp_path: Path) -> None:
    model = tmp_path / "m.onnx"
    model.write_bytes(b"model")
    with pytest.raises(UsageError, match=r"--json .*m.onnx would overwrite the input .*m.onnx"):
        check_paths(inputs=[model], outputs={"--json": model})
    source = tmp_path / "model.py"
    source.write_text("class Net: ...\n")
    with pytest.raises(UsageError, match="the input"):
        check_paths(
            inputs=reference_files(f"{source}:Net"), outputs={"-o": source}, onnx_output="-o"
        )
    assert model.read_bytes() == b"model"  # the check itself writes nothing


def test_same_file_under_another_name_refused(tmp_path: Path) -> None:
    model = tmp_path / "m.onnx"
    model.write_bytes(b"model")
    (tmp_path / "link.onnx").symlink_to(model)
    os.link(model, tmp_path / "hard.onnx")
    for alias in ("link.onnx", "hard.onnx", "sub/../m.onnx"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(UsageError, match="would overwrite the input"):
            check_paths(inputs=[model], outputs={"--json": tmp_path / alias})


def test_side_data_file_clash_refused(tmp_path: Path) -> None:
    out = tmp_path / "x.onnx"
    with pytest.raises(UsageError, match=r"x.onnx.data \(where -o .*\) would overwrite --json"):
        check_paths(
            inputs=[], outputs={"--json": tmp_path / "x.onnx.data", "-o": out}, onnx_output="-o"
        )
    weights = tmp_path / "x.onnx.data"
    weights.write_bytes(b"w")
    with pytest.raises(UsageError, match="would overwrite the input"):
        check_paths(inputs=[weights], outputs={"-o": out}, onnx_output="-o")
    # only the ONNX output has a side file
    check_paths(inputs=[weights], outputs={"--json": tmp_path / "x.onnx"})


def test_stdout_is_never_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "-").write_text("an input that happens to be named -")
    monkeypatch.chdir(tmp_path)
    check_paths(inputs=["-"], outputs={"--json": "-", "-o": "m.onnx"}, onnx_output="-o")
    with pytest.raises(UsageError, match="--json and --junit both write to stdout"):
        check_paths(inputs=[], outputs={"--json": "-", "--junit": "-"})
    with pytest.raises(UsageError, match="cannot be written to stdout"):
        check_paths(inputs=[], outputs={"-o": "-"}, onnx_output="-o")


def test_devices_take_reports_but_not_the_model(tmp_path: Path) -> None:
    device = char_device(tmp_path)
    check_paths(inputs=[], outputs={"--json": device, "--junit": device})
    os.mkfifo(tmp_path / "pipe")
    for stream in (device, tmp_path / "pipe"):
        with pytest.raises(UsageError, match="is a device or pipe, but the ONNX file is read back"):
            check_paths(inputs=[], outputs={"-o": stream}, onnx_output="-o")


def test_unwritable_places_refused(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    with pytest.raises(UsageError, match=r"--json .*folder is a folder"):
        check_paths(inputs=[], outputs={"--json": tmp_path / "folder"})
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match=r"file is not a folder"):
        check_paths(inputs=[], outputs={"-o": tmp_path / "file" / "m.onnx"})
    socket_path = tmp_path / "sock"
    import socket

    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(socket_path))
        with pytest.raises(UsageError, match="is a socket"):
            check_paths(inputs=[], outputs={"--json": socket_path})
    # a folder that does not exist yet is created when written
    check_paths(inputs=[], outputs={"-o": tmp_path / "new" / "deeper" / "m.onnx"})
    assert not (tmp_path / "new").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_read_only_folder_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    try:
        with pytest.raises(UsageError, match="permission denied"):
            check_paths(inputs=[], outputs={"--json": locked / "r.json"})
    finally:
        locked.chmod(0o755)


def test_reference_files() -> None:
    assert reference_files("models/net.py:Net") == (Path("models/net.py"),)
    assert reference_files("m.pt2") == (Path("m.pt2"),)
    assert reference_files("scripted.pt") == (Path("scripted.pt"),)
    assert reference_files("json.decoder:JSONDecoder") == (Path(json.decoder.__file__),)
    assert reference_files(None) == ()
    assert reference_files("no_such_module_here.sub:Net") == ()


# -- atomic_write and the JSON report ---------------------------------------------------------------


def test_failed_write_leaves_the_target_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old")

    def interrupted(tmp: Path) -> None:
        tmp.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, interrupted)
    assert target.read_text() == "old" and leftovers(tmp_path) == []


def test_json_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "r.json"
    real.write_text("{}")
    link = tmp_path / "r.json"
    link.symlink_to(real)
    write_json(_Record(status="pass"), link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text()) == {"status": "pass"}
    assert leftovers(tmp_path) == [] and leftovers(tmp_path / "real") == []
    dangling = tmp_path / "later.json"
    dangling.symlink_to(tmp_path / "real" / "later.json")
    write_json(_Record(n=1), dangling)
    assert dangling.is_symlink() and json.loads(dangling.read_text()) == {"n": 1}


def test_json_mode_follows_umask_and_keeps_an_existing_files(tmp_path: Path, umask: None) -> None:
    fresh = tmp_path / "fresh.json"
    write_json(_Record(n=1), fresh)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
    shared = tmp_path / "shared.json"
    shared.write_text("{}")
    shared.chmod(0o664)
    write_json(_Record(n=2), shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o664
    assert json.loads(shared.read_text()) == {"n": 2}


def test_json_to_a_character_device_writes_through(tmp_path: Path) -> None:
    device = char_device(tmp_path)
    before = os.stat(device)
    write_json(_Record(n=1), device)
    after = os.stat(device)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert after.st_ino == before.st_ino


def test_json_to_a_fifo_writes_through(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    thread, received = read_fifo(fifo)
    write_json(_Record(n=3), fifo)
    thread.join(timeout=10)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert json.loads(received) == {"n": 3}


def test_json_dash_goes_to_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write_json(_Record(n=4), "-")
    assert json.loads(capsys.readouterr().out) == {"n": 4}
    assert list(tmp_path.iterdir()) == []


def test_block_device_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("making a block device node needs root")
    device = tmp_path / "disk"
    os.mknod(device, stat.S_IFBLK | 0o600, os.makedev(7, 200))  # an unused loop device number
    with pytest.raises(UsageError, match="is a block device"):
        write_json(_Record(n=5), device)
    with pytest.raises(UsageError, match="is a block device"):
        check_paths(inputs=[], outputs={"--json": device})
    assert stat.S_ISBLK(os.stat(device).st_mode)
