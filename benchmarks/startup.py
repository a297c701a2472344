"""Startup cost of the ``onnxproof`` CLI against a bare ``import onnx``.

Measured (wall time of a fresh process, ``time.perf_counter`` around ``subprocess.run``):

  (a) ``onnxproof --help``
  (b) ``onnxproof check FILE.onnx`` on a tiny model built with ``onnx.helper``
  (c) ``python -c "import onnx"`` (the baseline)
  (d) ``python -c "import onnx; onnx.checker.check_model(onnx.load(FILE), full_check=True)"``
      (what the check costs with nothing of onnxproof's around it; for reference)

All three use the interpreter running this script (``sys.executable``) and the ``onnxproof``
console script next to it. Bytecode caching is on for all three (``PYTHONDONTWRITEBYTECODE`` is
removed from their environment): an installed package has its ``.pyc`` files, as ``onnx`` in
site-packages does, and the warm-up round writes onnxproof's for an editable install. Without
that, every onnxproof start would compile its modules from source and the comparison would not
be like for like. The commands are interleaved round-robin over ``--repeat`` rounds
(after one untimed warm-up round) so that machine noise hits them alike. Reported: median and
min per command, and the ratios (a)/(c) and (b)/(c) against the goal of within 1.2x; beside
them the median CPU time (user + system, from ``getrusage``), which a loaded machine disturbs
less than wall time.

It also checks, in a fresh interpreter each, whether ``torch`` ends up in ``sys.modules`` after
``onnxproof --help`` and after ``onnxproof check FILE.onnx`` (the CLI's click group is called
in-process with a patched ``sys.argv``; its ``SystemExit`` is caught).

The console script skips the interpreter's teardown once the command is done (standard streams
flushed and ``atexit`` handlers run first; see ``onnxproof.cli._exit``); (c) and (d) pay it, as
any plain ``python -c`` does.

Usage: ``python benchmarks/startup.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL = 1.2

PROBE = """
import contextlib, io, sys
sys.argv = ["onnxproof"] + sys.argv[1:]
from onnxproof.cli import app
buf = io.StringIO()
with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
    try:
        app()
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
print(f"EXIT={code} TORCH={'torch' in sys.modules}")
"""


def onnxproof_exe() -> Path:
    """The ``onnxproof`` console script installed next to this interpreter."""
    exe = Path(sys.executable).parent / "onnxproof"
    if not exe.exists():
        sys.exit(f"error: {exe} not found; run this with the project's venv python")
    return exe


def make_model(path: Path) -> None:
    """Write a tiny valid ONNX model (MatMul + Add + Relu, dynamic batch) to ``path``."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((10, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(np.zeros(3, dtype=np.float32), "b")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["input", "w"], ["mm"]),
            helper.make_node("Add", ["mm", "b"], ["pre"]),
            helper.make_node("Relu", ["pre"], ["output"]),
        ],
        "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 10])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3])],
        initializer=[w, b],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))


#: Environment of every timed command: bytecode caching on (see the module docstring).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def time_once(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run of ``cmd``; exits if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        sys.exit(f"error: {' '.join(cmd)} exited {proc.returncode}: {tail}")
    return elapsed, cpu


def bench(
    commands: dict[str, list[str]], repeat: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Run the commands round-robin ``repeat`` times after one untimed warm-up round: wall and
    CPU seconds per command."""
    for cmd in commands.values():
        time_once(cmd)
    wall: dict[str, list[float]] = {label: [] for label in commands}
    cpu: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(repeat):
        for label, cmd in commands.items():
            elapsed, used = time_once(cmd)
            wall[label].append(elapsed)
            cpu[label].append(used)
    return wall, cpu


def torch_imported(args: list[str]) -> str:
    """Run the CLI in-process in a fresh interpreter; report its exit code and torch import."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=False, env=ENV
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("EXIT=")]
    if not lines:
        return f"probe failed (rc={proc.returncode})"
    return lines[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="timed rounds (default 15)")
    opts = parser.parse_args()

    exe = str(onnxproof_exe())
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "tiny.onnx"
        make_model(model)
        commands = {
            "(a) onnxproof --help": [exe, "--help"],
            "(b) onnxproof check tiny.onnx": [exe, "check", str(model)],
            '(c) python -c "import onnx"': [sys.executable, "-c", "import onnx"],
            "(d) import onnx + check_model": [
                sys.executable,
                "-c",
                f"import onnx; onnx.checker.check_model(onnx.load({str(model)!r}), full_check=True)",
            ],
        }
        samples, cpu = bench(commands, opts.repeat)
        probe_help = torch_imported(["--help"])
        probe_check = torch_imported(["check", str(model)])

    print(f"python {sys.version.split()[0]} ({sys.executable}); {opts.repeat} rounds, interleaved")
    print()
    width = max(len(label) for label in commands)
    print(
        f"{'command':<{width}}  {'median s':>9}  {'min s':>7}  {'max s':>7}  {'CPU median s':>12}"
    )
    print(f"{'-' * width}  {'-' * 9}  {'-' * 7}  {'-' * 7}  {'-' * 12}")
    med = {label: statistics.median(s) for label, s in samples.items()}
    cpu_med = {label: statistics.median(s) for label, s in cpu.items()}
    for label, s in samples.items():
        print(
            f"{label:<{width}}  {med[label]:>9.3f}  {min(s):>7.3f}  {max(s):>7.3f}"
            f"  {cpu_med[label]:>12.3f}"
        )
    print()
    base_label = list(commands)[2]
    base_med, base_min = med[base_label], min(samples[base_label])
    labels = list(commands)
    for label in (labels[0], labels[1], labels[3]):
        ratio_med = med[label] / base_med
        ratio_min = min(samples[label]) / base_min
        ratio_cpu = cpu_med[label] / cpu_med[base_label]
        if label == labels[3]:
            verdict = "for reference"
        else:
            verdict = ("meets" if ratio_med <= GOAL else "MISSES") + f" the goal of within {GOAL}x"
        print(
            f"{label.split()[0]}/(c): {ratio_med:.2f}x by median, {ratio_min:.2f}x by min"
            f" -> {verdict} (CPU time: {ratio_cpu:.2f}x by median)"
        )
    print()
    print(f"torch imported by `onnxproof --help`: {probe_help}")
    print(f"torch imported by `onnxproof check`:  {probe_check}")


if __name__ == "__main__":
    main()
