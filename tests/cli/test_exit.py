"""The console script leaves without the interpreter's teardown, and loses nothing doing so."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from onnxproof.cli._exit import exit_code_of


def _run(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (1, 1), (2, 2), (3, 3)])
def test_exit_codes_are_sys_exit_s(code: object, status: int) -> None:
    assert exit_code_of(code) == status


def test_a_message_exits_1_and_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code_of("no such file") == 1
    assert "no such file" in capsys.readouterr().err


def test_buffered_output_exit_handlers_and_finalizers_all_happen(tmp_path: Path) -> None:
    """Output still in the buffers is written, atexit handlers run (logging's among them) and a
    ``weakref.finalize`` clean-up (what ``tempfile`` relies on) removes its folder."""
    proc = _run(
        """
        import atexit, logging, sys, tempfile, weakref
        from onnxproof.cli._exit import leave
        log = logging.getLogger("t")
        log.addHandler(logging.FileHandler("log.txt", delay=False))
        log.warning("logged")
        folder = tempfile.mkdtemp(dir=".")
        import shutil
        class Holder: pass
        holder = Holder()
        weakref.finalize(holder, shutil.rmtree, folder)
        atexit.register(lambda: print("handler ran"))
        sys.stdout.write("no newline yet")
        sys.stderr.write("err tail")
        leave(2)
        """,
        tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stdout == "no newline yethandler ran\n"
    assert proc.stderr == "err tail"
    assert (tmp_path / "log.txt").read_text() == "logged\n"
    assert [p.name for p in tmp_path.iterdir()] == ["log.txt"]


def test_a_running_non_daemon_thread_gets_a_normal_exit(tmp_path: Path) -> None:
    """A normal exit waits for a non-daemon thread; a hard one would cut it off."""
    proc = _run(
        """
        import threading, time
        from onnxproof.cli._exit import leave
        def work():
            time.sleep(0.3)
            open("done.txt", "w").write("finished")
        threading.Thread(target=work).start()
        leave(1)
        """,
        tmp_path,
    )
    assert proc.returncode == 1
    assert (tmp_path / "done.txt").read_text() == "finished"


def test_console_script_exit_code_and_output(tmp_path: Path) -> None:
    """The real console entry: a usage error is one line and exit 2, the help is exit 0."""
    proc = _run(
        """
        import sys
        sys.argv = ["onnxproof", "check", "missing.onnx"]
        from onnxproof.cli import main
        main()
        """,
        tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    assert "missing.onnx" in proc.stderr and "Traceback" not in proc.stderr
    proc = _run(
        """
        import sys
        sys.argv = ["onnxproof", "--help"]
        from onnxproof.cli import main
        main()
        """,
        tmp_path,
    )
    assert proc.returncode == 0 and "Usage: onnxproof" in proc.stdout
