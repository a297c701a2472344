"""``onnxproof run`` on the built-in example against the hand-written tutorial script.

Measured (wall time of a fresh process, ``time.perf_counter`` around ``subprocess.run``):

  onnxproof  ``onnxproof run -o TMP/sn.onnx -q --json TMP/r.json`` (built-in SimpleNet)
  tutorial   a standalone script (written to a temp file from ``TUTORIAL`` below) that builds
             SimpleNet (Linear 10->16, ReLU, Linear 16->3), calls ``model.eval()``, exports it
             with ``torch.onnx.export(..., dynamo=True)`` and dynamic batch axes, runs
             ``onnx.checker.check_model`` and one ONNX Runtime ``InferenceSession`` run compared
             with ``np.testing.assert_allclose(rtol=1e-3, atol=1e-5)``
  import torch             ``python -c "import torch"``
  import onnxproof.export  ``python -c "import onnxproof.export"`` (or ``onnxproof.exporting``,
                           whichever the installed package has; ``--export-module`` overrides)

The four commands are interleaved round-robin over ``--repeat`` rounds after one untimed
warm-up round. Reported: median wall time per command, the ratio onnxproof/tutorial against the
goal of within 2x, and where onnxproof's time goes: the median of each phase of the ``timings``
dict of its JSON report (load/export/check/verify, seconds) next to the import costs. The
tutorial prints its own phase times (``perf_counter`` around each step, negligible cost) so the
two can be compared phase by phase.

Usage: ``python benchmarks/run_vs_tutorial.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL = 2.0
PHASES = ("load", "export", "check", "verify")

TUTORIAL = """\
import json
import time

t0 = time.perf_counter()
import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

t1 = time.perf_counter()


class SimpleNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 16)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x)))


model = SimpleNet()
model.eval()
x = torch.randn(1, 10)
path = "simple_net.onnx"
torch.onnx.export(
    model,
    (x,),
    path,
    input_names=["input"],
    output_names=["output"],
    dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
    dynamo=True,
)
t2 = time.perf_counter()
onnx.checker.check_model(onnx.load(path))
t3 = time.perf_counter()
session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
(got,) = session.run(None, {"input": x.numpy()})
with torch.no_grad():
    want = model(x).numpy()
np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)
t4 = time.perf_counter()
phases = {"import": t1 - t0, "export": t2 - t1, "check": t3 - t2, "verify": t4 - t3}
print("PHASES=" + json.dumps(phases))
"""


def onnxproof_exe() -> Path:
    """The ``onnxproof`` console script installed next to this interpreter."""
    exe = Path(sys.executable).parent / "onnxproof"
    if not exe.exists():
        sys.exit(f"error: {exe} not found; run this with the project's venv python")
    return exe


def export_module(override: str | None) -> str:
    """The name of onnxproof's export subpackage (renamed ``export`` -> ``exporting``)."""
    if override:
        return override
    for name in ("onnxproof.exporting", "onnxproof.export"):
        try:
            if importlib.util.find_spec(name) is not None:
                return name
        except ModuleNotFoundError:
            break
    sys.exit("error: neither onnxproof.exporting nor onnxproof.export is importable")


def run_once(cmd: list[str], cwd: Path) -> tuple[float, str]:
    """Wall seconds and stdout of one run of ``cmd``; exits if the command fails."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        sys.exit(f"error: {' '.join(cmd)} exited {proc.returncode}: {tail}")
    return elapsed, proc.stdout


def tutorial_phases(stdout: str) -> dict[str, float]:
    """The phase times the tutorial script printed."""
    for line in stdout.splitlines():
        if line.startswith("PHASES="):
            return {k: float(v) for k, v in json.loads(line[len("PHASES=") :]).items()}
    return {}


def report_timings(path: Path) -> dict[str, float]:
    """The ``timings`` dict of an onnxproof JSON report."""
    data = json.loads(path.read_text())
    return {k: float(v) for k, v in (data.get("timings") or {}).items()}


def median_of(rows: list[dict[str, float]], key: str) -> float:
    """Median of ``key`` across rows that have it (NaN if none)."""
    values = [row[key] for row in rows if key in row]
    return statistics.median(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--export-module", help="module to time the import of (default: auto)")
    opts = parser.parse_args()

    exe = str(onnxproof_exe())
    py = sys.executable
    mod = export_module(opts.export_module)
    imp_label = f'python -c "import {mod}"'
    walls: dict[str, list[float]] = {
        "onnxproof run": [],
        "tutorial script": [],
        'python -c "import torch"': [],
        imp_label: [],
    }
    op_timings: list[dict[str, float]] = []
    tut_timings: list[dict[str, float]] = []

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        script = tmp / "tutorial.py"
        script.write_text(TUTORIAL)
        report = tmp / "r.json"
        commands = {
            "onnxproof run": [exe, "run", "-o", str(tmp / "sn.onnx"), "-q", "--json", str(report)],
            "tutorial script": [py, str(script)],
            'python -c "import torch"': [py, "-c", "import torch"],
            imp_label: [py, "-c", f"import {mod}"],
        }
        for cmd in commands.values():  # warm-up round, untimed
            run_once(cmd, tmp)
        for _ in range(opts.repeat):
            for label, cmd in commands.items():
                report.unlink(missing_ok=True)
                elapsed, out = run_once(cmd, tmp)
                walls[label].append(elapsed)
                if label == "onnxproof run":
                    op_timings.append(report_timings(report))
                elif label == "tutorial script":
                    tut_timings.append(tutorial_phases(out))

    med = {label: statistics.median(s) for label, s in walls.items()}
    print(f"python {sys.version.split()[0]} ({py}); {opts.repeat} rounds, interleaved")
    print()
    width = max(len(label) for label in walls)
    print(f"{'command':<{width}}  {'median s':>9}  {'min s':>7}  {'max s':>7}")
    print(f"{'-' * width}  {'-' * 9}  {'-' * 7}  {'-' * 7}")
    for label, s in walls.items():
        print(f"{label:<{width}}  {med[label]:>9.3f}  {min(s):>7.3f}  {max(s):>7.3f}")
    print()
    ratio = med["onnxproof run"] / med["tutorial script"]
    verdict = "meets" if ratio <= GOAL else "MISSES"
    print(f"onnxproof/tutorial: {ratio:.2f}x by median -> {verdict} the goal of within {GOAL}x")
    print()

    op_wall = med["onnxproof run"]
    imp = med[imp_label]
    phase_med = {k: median_of(op_timings, k) for k in PHASES}
    tut_med = {k: median_of(tut_timings, k) for k in ("import", "export", "check", "verify")}
    rest = op_wall - imp - sum(phase_med.values())
    print("where onnxproof run's time goes (medians, seconds)")
    rows = [
        (f"interpreter + import {mod}", imp, "(separate process, incl. torch)"),
        ("  compare: interpreter + import torch", med['python -c "import torch"'], "(separate)"),
        *((f"report timings[{k!r}]", phase_med[k], "") for k in PHASES),
        ("rest (wall - above; other imports, render, exit)", rest, ""),
        ("onnxproof run wall", op_wall, ""),
    ]
    w2 = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"  {name:<{w2}}  {value:>7.3f}  {note}".rstrip())
    print()
    print("tutorial script's own phases (medians, seconds; 'import' excludes interpreter start)")
    for k, v in tut_med.items():
        print(f"  {k:<8}  {v:>7.3f}")
    tut_rest = med["tutorial script"] - sum(tut_med.values())
    print(f"  {'rest':<8}  {tut_rest:>7.3f}  (wall - phases: interpreter start, exit)")
    print(f"  {'wall':<8}  {med['tutorial script']:>7.3f}")


if __name__ == "__main__":
    main()
