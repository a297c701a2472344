"""Output paths: refuse one that would overwrite an input or another output, then write atomically.

Every file onnxproof writes (the .onnx, its side data file, the reports) goes through
:func:`atomic_write`, and every command checks its paths with :func:`check_paths` before any work,
so a clash or an unwritable folder is one clear message and never a clobbered file.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import stat
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeAlias

from onnxproof.errors import UsageError

#: A path as the public functions take it.
StrPath: TypeAlias = str | os.PathLike[str]

#: The output path that means standard output (reports only; never a file named ``-``).
STDOUT = "-"


def side_data_path(onnx_path: StrPath) -> Path:
    """Where the .onnx written at ``onnx_path`` keeps its weights when they pass 2 GB.

    Beside the real file a symlink points to, named after it: the model refers to its data by a
    name relative to its own folder.
    """
    real = Path(os.path.realpath(onnx_path))
    return real.with_name(real.name + ".data")


def is_stream(path: StrPath) -> bool:
    """True for a character device or a named pipe (``/dev/null``, ``/dev/stdout``, a FIFO)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def reference_files(reference: str | None) -> tuple[Path, ...]:
    """The files a model reference reads, so that no output overwrites them.

    ``file.py:Name`` → the file; ``.pt2`` / TorchScript archives → the archive; ``pkg.mod:Name`` →
    the module's source when it can be found (this imports the parent packages, as loading the model
    would a moment later). The built-in example and unknown modules give nothing.
    """
    if reference is None:
        return ()
    if ":" not in reference:
        return (Path(reference),)
    where = reference.rpartition(":")[0]
    if where.endswith(".py") or "/" in where or "\\" in where:
        return (Path(where),)
    try:
        spec = importlib.util.find_spec(where)
    except Exception:  # a broken package is reported by loading, with its own message
        return ()
    if spec is None or not spec.has_location or not spec.origin:
        return ()
    return (Path(spec.origin),)


def check_paths(
    *,
    inputs: Sequence[StrPath | None],
    outputs: Mapping[str, StrPath | None],
    onnx_output: str | None = None,
) -> None:
    """Refuse, before any work, outputs that would overwrite an input or each other, or that
    cannot be written.

    ``inputs`` are the files the command reads (``None`` entries are skipped). ``outputs`` maps the
    option that named each output (``"-o"``, ``"--json"``) to its path or ``None``; ``-`` is stdout
    and never a file. ``onnx_output`` names the output that is an ONNX model: its side data file
    (``NAME.data``, written when the weights pass 2 GB) must clash with nothing either. Paths are
    compared as real paths (symlinks followed) and with ``os.path.samefile`` (hard links). A
    device or pipe (``/dev/null``) may take any number of reports, but not the ONNX model, which
    is read back. Raises :class:`UsageError` (exit code 2).
    """
    claimed: list[tuple[str, Path]] = [
        (f"the input {path}", Path(os.path.realpath(path))) for path in inputs if path is not None
    ]
    to_stdout: list[str] = []
    for label, path in outputs.items():
        if path is None:
            continue
        if str(path) == STDOUT:
            if label == onnx_output:
                raise UsageError(
                    f"{label} -: the ONNX model cannot be written to stdout",
                    hint="give a file path such as model.onnx",
                )
            to_stdout.append(label)
            continue
        _check_writable(label, Path(path))
        real = Path(os.path.realpath(path))
        if is_stream(real):
            if label == onnx_output:
                # Every command that writes the model reads it back to check and verify it.
                raise UsageError(
                    f"{label} {path} is a device or pipe, but the ONNX file is read back to check "
                    "and verify it",
                    hint="write it to a file, in a temporary folder if it is not to be kept",
                )
            continue  # a device or pipe keeps nothing that a second write could destroy
        mine = [(f"{label} {path}", real)]
        if label == onnx_output:
            side = side_data_path(path)
            mine.append((f"{side} (where {label} {path} keeps weights over 2 GB)", side))
        for what, where in mine:
            for other, other_where in claimed:
                if _same_file(where, other_where):
                    raise UsageError(
                        f"{what} would overwrite {other}",
                        hint="give each output its own path, apart from the inputs",
                    )
        claimed += mine
    if len(to_stdout) > 1:
        raise UsageError(
            f"{' and '.join(to_stdout)} both write to stdout ('-')",
            hint="send at most one of them to stdout",
        )


def atomic_write(path: StrPath, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temp file beside the real target, then rename it over the target.

    A symlink is followed: its target is replaced and the link stays a link. An existing file keeps
    its permissions (and, where allowed, its owner); a new file gets ``0o666 & ~umask`` like any
    other tool's output. On any exception — KeyboardInterrupt and a SIGTERM turned into one
    included — the temp file is removed and the target is untouched. Returns the path written.

    A character device or named pipe is written directly instead: renaming over it would replace
    it (as root, ``-o /dev/null`` would swap the device for a regular file), and a stream keeps no
    content that a half-finished write could corrupt. Other special files are refused.
    """
    target = Path(os.path.realpath(path))
    try:
        before: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        before = None
    if before is not None and not stat.S_ISREG(before.st_mode):
        if stat.S_ISCHR(before.st_mode) or stat.S_ISFIFO(before.st_mode):
            write(target)
            return target
        raise UsageError(
            f"{path} is {_kind(before.st_mode)}, not a file onnxproof can write",
            hint="give the path of a regular file",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp: Path | None = None
    try:
        tmp = _create_temp(target)
        fresh_mode = stat.S_IMODE(os.stat(tmp).st_mode)
        write(tmp)
        if before is not None:
            _keep_owner_and_mode(tmp, before)
        else:
            # ``write`` may have renamed a file of its own making into place (0o600 by some
            # writers): a new output gets the mode the umask gives.
            os.chmod(tmp, fresh_mode)
        os.replace(tmp, target)
    except BaseException:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
        raise
    return target


def _create_temp(target: Path) -> Path:
    # os.open with 0o666 lets the kernel apply the umask, which mkstemp (always 0o600) does not;
    # O_EXCL makes the name ours alone.
    stem = target.name[:200]  # room for the random part within the 255-byte name limit
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        candidate = target.with_name(f".{stem}.{os.urandom(4).hex()}.tmp")
        try:
            os.close(os.open(candidate, flags, 0o666))
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"no free temporary name beside {target}")


def _keep_owner_and_mode(tmp: Path, before: os.stat_result) -> None:
    now = os.stat(tmp)
    if (now.st_uid, now.st_gid) != (before.st_uid, before.st_gid):
        # Only root (or a member of the group) may; otherwise the writer owns the new file.
        with contextlib.suppress(OSError):
            os.chown(tmp, before.st_uid, before.st_gid)
    os.chmod(tmp, stat.S_IMODE(before.st_mode))  # after chown, which may clear setuid bits


def _check_writable(label: str, path: Path) -> None:
    real = Path(os.path.realpath(path))
    try:
        mode: int | None = os.stat(real).st_mode
    except FileNotFoundError:
        mode = None
    except NotADirectoryError:
        mode = None  # a parent is a file; reported below
    if mode is not None:
        if stat.S_ISDIR(mode):
            raise UsageError(
                f"{label} {path} is a folder", hint=f"name a file, such as {path / 'out'}"
            )
        if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
            if not os.access(real, os.W_OK):
                raise UsageError(f"{label} {path}: permission denied", hint="choose another path")
            return
        if not stat.S_ISREG(mode):
            raise UsageError(
                f"{label} {path} is {_kind(mode)}", hint="give the path of a regular file"
            )
    # A regular file is replaced by renaming a temp file beside it, so its folder must be
    # writable; a missing folder is created, so its nearest existing ancestor must be.
    folder = real.parent
    while not os.path.lexists(folder) and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(
            f"{label} {path}: {folder} is not a folder", hint="choose a path under a folder"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(
            f"{label} {path}: cannot write in {folder} (permission denied)",
            hint="choose a folder you can write to",
        )
    problem = _create_problem(folder)
    if problem is not None:
        raise UsageError(
            f"{label} {path}: cannot write in {folder} ({problem})",
            hint="choose a folder you can write to",
        )


def _create_problem(folder: Path) -> str | None:
    """Why no file can be created in ``folder``, found by creating (and removing) one; None when
    one can. ``os.access`` answers yes for root in /proc or on a read-only file system."""
    import tempfile

    try:
        handle, name = tempfile.mkstemp(dir=folder, prefix=".onnxproof-probe-")
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    os.close(handle)
    with contextlib.suppress(OSError):
        os.unlink(name)
    return None


def _same_file(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet
        return False


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"
