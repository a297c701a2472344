"""A sweep stopped from outside takes its runs with it: no hung model outlives it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.sweeping.zoo import write_zoo


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = next(
                line
                for line in (entry / "status").read_text().splitlines()
                if line.startswith("State:")
            )
        except (OSError, StopIteration):
            continue
        if text in cmdline and "zombie" not in state:
            found.append(int(entry.name))
    return found


def test_sigterm_stops_the_sweep_and_kills_the_runs(tmp_path: Path) -> None:
    zoo = write_zoo(tmp_path, ("hangs",))
    zoo.write_text(zoo.read_text().replace("timeout = 3", "timeout = 600"))
    marker = str(tmp_path / "hangs.py")
    sweep = subprocess.Popen(
        [sys.executable, "-m", "onnxproof", "sweep", str(zoo), "-o", str(tmp_path / "out")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        # The run is started once a process other than the sweep names the model's file.
        while not [p for p in _processes_mentioning(marker) if p != sweep.pid]:
            assert time.monotonic() < deadline and sweep.poll() is None, sweep.communicate()
            time.sleep(0.2)
        sweep.send_signal(signal.SIGTERM)
        _, stderr = sweep.communicate(timeout=30)
    finally:
        if sweep.poll() is None:
            sweep.kill()
    assert sweep.returncode == 128 + signal.SIGTERM, stderr
    assert "stopped (SIGTERM) while running 1 models of zoo.toml" in stderr
    deadline = time.monotonic() + 10
    while _processes_mentioning(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_mentioning(marker) == []
