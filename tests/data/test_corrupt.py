"""Hostile and damaged data files, each built here: a DataError naming the file, never a crash."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from onnxproof.data.files import ImageSpec, iter_batches, open_data
from onnxproof.errors import DataError
from onnxproof.specs import parse_input_specs

X_ONLY = parse_input_specs(["x:float32[batch,4]"])
X = np.arange(40, dtype=np.float32).reshape(10, 4)


def _read_all(path: Path, specs=X_ONLY, **kwargs) -> int:
    _, batches = open_data(path, specs, batch_size=3, **kwargs)
    return sum(len(b["x"]) for b in batches)


def _fails(path: Path, *needles: str, specs=X_ONLY, **kwargs) -> DataError:
    with pytest.raises(DataError) as info:
        _read_all(path, specs, **kwargs)
    text = str(info.value)
    assert str(path) in text or path.name in text, text
    for needle in needles:
        assert needle in text, text
    assert info.value.exit_code == 2
    return info.value


def _npy_bytes(array: np.ndarray, claimed: str | None = None) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array)
    raw = buffer.getvalue()
    if claimed is None:
        return raw
    end = raw.index(b"\n") + 1
    # the header is space-padded to a fixed length: a longer shape text still fits
    header = raw[:end].replace(str(array.shape).encode(), claimed.encode())
    header = header[: end - 1].ljust(end - 1) + b"\n"
    assert len(header) == end
    return header + raw[end:]


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_npz_member_claiming_more_than_its_bytes(tmp_path: Path, method: int) -> None:
    path = tmp_path / "lying.npz"
    with zipfile.ZipFile(path, "w", method) as zf:
        zf.writestr("x.npy", _npy_bytes(X, claimed="(999999, 4)"))
    _fails(path, "member 'x.npy' claims shape [999999, 4]", "the file is damaged")


def test_npz_with_a_bad_deflate_stream(tmp_path: Path) -> None:
    path = tmp_path / "bad_deflate.npz"
    np.savez_compressed(path, x=np.random.default_rng(0).random((64, 4), dtype=np.float32))
    data = bytearray(path.read_bytes())
    start = data.index(b"x.npy") + len("x.npy") + 40  # well inside the compressed stream
    data[start : start + 32] = b"\xff" * 32
    path.write_bytes(bytes(data))
    _fails(path, "zlib.error", "while decompressing")


def test_npz_damaged_past_its_headers_fails_while_streaming(tmp_path: Path) -> None:
    path = tmp_path / "late.npz"
    np.savez_compressed(path, x=np.random.default_rng(0).random((4096, 4), dtype=np.float32))
    data = bytearray(path.read_bytes())
    end = data.index(b"PK\x01\x02")  # the central directory follows the member's data
    data[end - 2000 : end - 1968] = b"\xff" * 32
    path.write_bytes(bytes(data))
    _, batches = open_data(path, X_ONLY, batch_size=16)  # headers are intact: opening works
    with pytest.raises(DataError) as info:
        list(batches)
    assert f"{path} is damaged: reading its arrays failed" in str(info.value)


def test_npz_with_an_unknown_compression_method(tmp_path: Path) -> None:
    path = tmp_path / "method.npz"
    np.savez(path, x=X)
    data = bytearray(path.read_bytes())
    data[8:10] = struct.pack("<H", 99)  # local header's method
    central = data.index(b"PK\x01\x02")
    data[central + 10 : central + 12] = struct.pack("<H", 99)
    path.write_bytes(bytes(data))
    _fails(path, "not a readable .npz file", "NotImplementedError")


def test_text_file_named_npz(tmp_path: Path) -> None:
    path = tmp_path / "notes.npz"
    path.write_text("just some text\n")
    _fails(path, "not a readable .npz file", "BadZipFile")


def test_truncated_npz(tmp_path: Path) -> None:
    path = tmp_path / "cut.npz"
    np.savez(path, x=X)
    path.write_bytes(path.read_bytes()[:-30])
    _fails(path, "not a readable .npz file")


def test_truncated_npy_and_npy_that_is_text(tmp_path: Path) -> None:
    path = tmp_path / "cut.npy"
    np.save(path, X)
    path.write_bytes(path.read_bytes()[:-20])
    _fails(path, "not a readable .npy file")
    header_only = tmp_path / "header.npy"
    header_only.write_bytes(b"\x93NUMPY\x01\x00")
    _fails(header_only, "not a readable .npy file")
    text = tmp_path / "text.npy"
    text.write_text("1 2 3 4\n")
    _fails(text, "is not a .npy file", "magic")


def test_empty_and_garbage_pt(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    _fails(empty, "is empty (0 bytes)")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x80\x02" + b"\x00" * 5)  # a pickle that stops at once
    _fails(garbage, "could not be read by torch.load(weights_only=True)")


def test_truncated_pt(tmp_path: Path) -> None:
    path = tmp_path / "cut.pt"
    torch.save({"x": torch.from_numpy(X)}, path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _fails(path, "could not be read by torch.load")


def test_empty_datasets_have_nothing_to_verify(tmp_path: Path) -> None:
    npz = tmp_path / "zero.npz"
    np.savez(npz, x=np.zeros((0, 4), np.float32))
    _fails(npz, "holds no samples: there is nothing to verify")
    npy = tmp_path / "zero.npy"
    np.save(npy, np.zeros((0, 4), np.float32))
    _fails(npy, "holds no samples")
    pt = tmp_path / "zero.pt"
    torch.save([], pt)
    _fails(pt, "holds no samples")
    folder = tmp_path / "folder"
    folder.mkdir()
    np.save(folder / "a.npy", np.zeros((0, 4), np.float32))
    _fails(folder, "holds no samples")
    with pytest.raises(DataError, match="the iterable holds no samples"):
        list(iter_batches([], X_ONLY))
    with pytest.raises(DataError, match="max samples 0 is below 1"):
        _read_all(npz, max_samples=0)


def test_paths_that_are_not_files_say_what_they_are(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)  # opening it would block forever
    _fails(fifo, "is a FIFO (named pipe), not a file")
    _fails(Path("/dev/null"), "is a character device, not a file")
    _fails(tmp_path / "missing.npz", "does not exist")
    link = tmp_path / "dangling.npz"
    link.symlink_to(tmp_path / "gone.npz")
    _fails(link, "is a broken symbolic link")


def test_member_sample_larger_than_the_cap(tmp_path: Path) -> None:
    specs = parse_input_specs(["x:float32[batch,seq]"])
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("x.npy", _npy_bytes(np.zeros((1, 4), np.float32), claimed="(1, 3000000000)"))
    _fails(path, "more than the 2,147,483,648 values", specs=specs)


def _png(width: int, height: int, idat: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


IMAGE_SPECS = parse_input_specs(["x:float32[batch,3,8,8]"])


def _image_fails(folder: Path, *needles: str) -> None:
    with pytest.raises(DataError) as info:
        _, batches = open_data(folder, IMAGE_SPECS, image_spec=ImageSpec(size=(8, 8)))
        list(batches)
    for needle in needles:
        assert needle in str(info.value), str(info.value)


@pytest.mark.parametrize(("width", "height"), [(30000, 30000), (10000, 10000)])
def test_huge_images_are_refused_before_decoding(tmp_path: Path, width: int, height: int) -> None:
    """30000^2 trips Pillow's DecompressionBombError; 10000^2 only its warning: both refused."""
    (tmp_path / "bomb.png").write_bytes(_png(width, height, zlib.compress(b"\x00" * 64)))
    _image_fails(tmp_path, "bomb.png", "pixels")


def test_damaged_image(tmp_path: Path) -> None:
    (tmp_path / "bad.png").write_bytes(_png(4, 4, b"not a zlib stream"))
    _image_fails(tmp_path, "bad.png", "could not be read")


def test_probe_checks_without_reading_everything(tmp_path: Path) -> None:
    from onnxproof.data.files import probe

    good = tmp_path / "good.npz"
    np.savez(good, x=X)
    assert probe(good, X_ONLY).samples == 10
    empty = tmp_path / "empty.npz"
    np.savez(empty, x=np.zeros((0, 4), np.float32))
    with pytest.raises(DataError, match="holds no samples"):
        probe(empty, X_ONLY)
    folder = tmp_path / "folder"
    folder.mkdir()
    np.save(folder / "a.npy", np.zeros((2, 5), np.float32))  # wrong static dim, found on read
    with pytest.raises(DataError, match="axis 1 is 5, not 4"):
        probe(folder, X_ONLY)
