"""Verifying a dataset against running it: ``onnxproof.verify(data=...)`` vs bare inference.

Model: a small CNN built here with seeded random weights, Conv2d(3,16,3,p=1)-ReLU-MaxPool2d(2)-
Conv2d(16,32,3,p=1)-ReLU-AdaptiveAvgPool2d(1)-Flatten-Linear(32,10), input
``x:float32[batch,3,32,32]``, exported once with ``onnxproof.export``. ``--samples`` random
samples are written with ``np.savez`` (uncompressed, first axis = samples) to a temp dir.

Measured in one process (wall time, ``time.perf_counter``), interleaved over ``--repeat`` rounds
after one untimed warm-up round:

  (a)  ``onnxproof.verify(model, onnx, inputs=[...], data=npz, batch_size=B)``
  (a') the same call with ``max_samples=1``: the fixed cost (checker, synthetic verification at
       several sizes, determinism re-runs, reading the .npz header and one sample)
  (b)  the bare sum over the same batches of B samples, read from the memory-mapped .npz member:
       PyTorch inference (``model.eval()``, ``torch.no_grad()``) and ONNX Runtime inference (an
       ``InferenceSession`` with CPUExecutionProvider and default ``SessionOptions``, as
       onnxproof's own session) timed separately and added; the read (copy of each batch out of
       the map) is timed too but not part of (b)

Reported: medians, the dataset part (a) - (a') and ``report.timings['data']``, the ratio
((a) - (a'))/(b) against the goal of within 1.2x, and the plain (a)/(b).

Threads: by default both runtimes keep their defaults (torch: ``torch.get_num_threads()``; ORT:
``intra_op_num_threads=0``, i.e. one thread per physical core), because onnxproof's ORT session
uses default ``SessionOptions`` and does not touch torch's thread count. Both are printed.

Threads: both runtimes are left at their defaults unless ``--threads N`` is given; then
``torch.set_num_threads(N)`` is called and ``onnxruntime.SessionOptions`` is wrapped so that every
session made in this process, onnxproof's included, gets ``intra_op_num_threads=N``.

Peak memory: the verify runs in a fresh child process (``--child`` mode of this script) on .npz
files of each of ``--memory-samples`` sizes; the child reports ``ru_maxrss`` at its end and
``VmHWM`` (MiB), its RSS just before the call, and the peak of ``RssAnon``/``RssFile`` from
/proc/self/status sampled after every batch (``progress`` callback). The child is started through
a small launcher process: on Linux a child's ``ru_maxrss`` starts at the RSS its parent had when
it forked (the maximum survives ``execve``), so a child started straight from this large process
would report this process's RSS. ``ru_maxrss`` counts resident pages of the memory-mapped data
file too (file-backed, reclaimable by the kernel); ``RssAnon`` does not.

Usage: ``python benchmarks/dataset_verify.py [--samples N] [--batch-size B] [--repeat N]
[--threads N] [--memory-samples 2000,20000]``
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

GOAL = 1.2
SEED = 0
INPUT = "x:float32[batch,3,32,32]"
#: Runs argv[1:] as a grandchild so that its ru_maxrss does not start at this process's RSS.
LAUNCHER = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"


def build_model() -> Any:
    """The CNN, with weights drawn from a fixed seed (the child rebuilds the same weights)."""
    import torch
    from torch import nn

    torch.manual_seed(SEED)
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(32, 10),
    )


def write_npz(path: Path, samples: int) -> None:
    """``samples`` standard-normal inputs as member ``x`` of an uncompressed .npz."""
    rng = np.random.default_rng(SEED)
    np.savez(path, x=rng.standard_normal((samples, 3, 32, 32), dtype=np.float32))


def map_npz_member(path: Path, name: str) -> np.ndarray:
    """Memory-map an uncompressed .npz member (NumPy's ``mmap_mode`` ignores .npz files)."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(f"{name}.npy")
    if info.compress_type != zipfile.ZIP_STORED:
        sys.exit(f"error: member {name} of {path} is compressed")
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        local = f.read(30)  # local file header: name and extra lengths at bytes 26..29
        f.seek(info.header_offset + 30 + int.from_bytes(local[26:28], "little"))
        f.seek(int.from_bytes(local[28:30], "little"), 1)
        version = np.lib.format.read_magic(f)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = read_header(f)
        offset = f.tell()
    order = "F" if fortran else "C"
    return np.memmap(path, dtype, "r", offset=offset, shape=shape, order=order)


def proc_status_kb(field: str) -> int:
    """A ``kB`` field of /proc/self/status (0 where unavailable)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def child(onnx_path: str, data: str, batch_size: int) -> None:
    """Verify ``data`` once in this fresh process; print one JSON line with memory figures."""
    import onnxproof

    model = build_model()
    peak = {"anon": 0, "file": 0}

    def sample(_n: int) -> None:
        peak["anon"] = max(peak["anon"], proc_status_kb("RssAnon"))
        peak["file"] = max(peak["file"], proc_status_kb("RssFile"))

    before = proc_status_kb("VmRSS")
    start = time.perf_counter()
    report = onnxproof.verify(
        model, onnx_path, inputs=[INPUT], data=data, batch_size=batch_size, progress=sample
    )
    wall = time.perf_counter() - start
    out = {
        "status": report.status,
        "samples": report.data.samples if report.data else 0,
        "wall_s": wall,
        "rss_before_mb": before / 1024,
        "peak_rss_anon_mb": peak["anon"] / 1024,
        "peak_rss_file_mb": peak["file"] / 1024,
        "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "vm_hwm_mb": proc_status_kb("VmHWM") / 1024,
    }
    print("CHILD=" + json.dumps(out))


def run_child(onnx_path: Path, data: Path, batch_size: int, threads: int) -> dict[str, Any]:
    """Run ``child`` in a fresh grandchild process; its JSON figures."""
    cmd = [sys.executable, __file__, "--child", str(onnx_path), str(data)]
    cmd += ["--batch-size", str(batch_size), "--threads", str(threads)]
    proc = subprocess.run([sys.executable, "-c", LAUNCHER, *cmd], capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("CHILD="):
            return json.loads(line[len("CHILD=") :])
    tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
    sys.exit(f"error: child exited {proc.returncode}: {tail}")


def set_threads(n: int) -> None:
    """``n`` intra-op threads for torch and for every ORT session made in this process."""
    import onnxruntime as ort
    import torch

    torch.set_num_threads(n)
    base = ort.SessionOptions

    def options() -> Any:
        made = base()
        made.intra_op_num_threads = n
        return made

    ort.SessionOptions = options  # onnxproof's OrtSession looks it up at each load


def bare_sum(
    model: Any, session: Any, data: np.ndarray, batch_size: int
) -> tuple[float, float, float]:
    """Seconds for (read, PyTorch, ONNX Runtime) over all batches of ``data``."""
    import torch

    read = t_torch = t_ort = 0.0
    with torch.no_grad():
        for start in range(0, data.shape[0], batch_size):
            t0 = time.perf_counter()
            batch = np.array(data[start : start + batch_size])  # a copy, as onnxproof's batches
            t1 = time.perf_counter()
            model(torch.from_numpy(batch)).numpy()
            t2 = time.perf_counter()
            session.run(None, {"x": batch})
            t3 = time.perf_counter()
            read, t_torch, t_ort = read + t1 - t0, t_torch + t2 - t1, t_ort + t3 - t2
    return read, t_torch, t_ort


def verify_once(
    model: Any, onnx_path: Path, data: Path, batch_size: int, max_samples: int | None
) -> tuple[float, Any]:
    import onnxproof

    start = time.perf_counter()
    report = onnxproof.verify(
        model,
        onnx_path,
        inputs=[INPUT],
        data=str(data),
        batch_size=batch_size,
        max_samples=max_samples,
    )
    return time.perf_counter() - start, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20_000, help="dataset size (20000)")
    parser.add_argument("--batch-size", type=int, default=64, help="batch size B (64)")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds (default 3)")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch and ORT intra-op threads (0: defaults)"
    )
    parser.add_argument(
        "--memory-samples",
        default="2000,20000",
        help="comma-separated dataset sizes for the peak-memory children (2000,20000)",
    )
    parser.add_argument("--child", nargs=2, metavar=("ONNX", "NPZ"), help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        if opts.threads > 0:
            set_threads(opts.threads)
        child(opts.child[0], opts.child[1], opts.batch_size)
        return

    import onnxruntime as ort
    import torch

    import onnxproof

    if opts.threads > 0:
        set_threads(opts.threads)
    model = build_model()
    model.eval()
    bsz = opts.batch_size
    names = ("(a) verify, data", "(a') verify, max_samples=1", "(b) torch + ORT")
    walls: dict[str, list[float]] = {n: [] for n in names}
    parts: dict[str, list[float]] = {"read": [], "torch": [], "ort": [], "data": []}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        onnx_path = tmp / "cnn.onnx"
        exported = onnxproof.export(model, inputs=[INPUT], output=onnx_path)
        npz = tmp / f"data_{opts.samples}.npz"
        write_npz(npz, opts.samples)
        data = map_npz_member(npz, "x")
        session = ort.InferenceSession(
            str(onnx_path), ort.SessionOptions(), providers=["CPUExecutionProvider"]
        )
        print(
            f"python {sys.version.split()[0]}, torch {torch.__version__}, "
            f"onnxruntime {ort.__version__}; exporter {exported.exporter}"
        )
        how = f"set to {opts.threads}" if opts.threads > 0 else "defaults for both"
        print(
            f"threads ({how}): torch.get_num_threads()={torch.get_num_threads()}, "
            f"ORT intra_op_num_threads={ort.SessionOptions().intra_op_num_threads} "
            "(0 = ORT default, one per physical core)"
        )
        print(
            f"data: {opts.samples} samples x float32[3,32,32] = "
            f"{npz.stat().st_size / 2**20:.1f} MiB .npz; batch size {bsz}; "
            f"{opts.repeat} rounds interleaved after 1 warm-up"
        )
        print()

        statuses: set[str] = set()
        for round_ in range(opts.repeat + 1):
            timed = round_ > 0
            wall, report = verify_once(model, onnx_path, npz, bsz, None)
            samples = report.data.samples if report.data else 0
            if samples != opts.samples:
                sys.exit(f"error: verify saw {samples} samples, expected {opts.samples}")
            statuses.add(f"{report.status}, data passed={report.data.passed}")
            if timed:
                walls[names[0]].append(wall)
                parts["data"].append(report.timings.get("data", float("nan")))
            wall, _ = verify_once(model, onnx_path, npz, bsz, 1)
            if timed:
                walls[names[1]].append(wall)
            read, t_torch, t_ort = bare_sum(model, session, data, bsz)
            if timed:
                walls[names[2]].append(t_torch + t_ort)
                parts["read"].append(read)
                parts["torch"].append(t_torch)
                parts["ort"].append(t_ort)
        del data

        med = {n: statistics.median(s) for n, s in walls.items()}
        pmed = {k: statistics.median(v) for k, v in parts.items()}
        width = max(len(n) for n in names) + 2
        print(f"{'measurement':<{width}}  {'median s':>9}  {'min s':>7}  {'max s':>7}")
        print(f"{'-' * width}  {'-' * 9}  {'-' * 7}  {'-' * 7}")
        for n in names:
            s = walls[n]
            print(f"{n:<{width}}  {med[n]:>9.3f}  {min(s):>7.3f}  {max(s):>7.3f}")
        for key, label in (("torch", "PyTorch"), ("ort", "ONNX Runtime")):
            s = parts[key]
            print(f"{'  ' + label:<{width}}  {pmed[key]:>9.3f}  {min(s):>7.3f}  {max(s):>7.3f}")
        s = parts["read"]
        label = "read batches (not in b)"
        print(f"{label:<{width}}  {pmed['read']:>9.3f}  {min(s):>7.3f}  {max(s):>7.3f}")
        print()
        dataset = med[names[0]] - med[names[1]]
        per_round = [a - f for a, f in zip(walls[names[0]], walls[names[1]], strict=True)]
        print(f"verify status: {'; '.join(sorted(statuses))}")
        print(
            f"dataset part (a) - (a'): {dataset:.3f} s (medians; per round "
            f"{', '.join(f'{x:.3f}' for x in per_round)}); report.timings['data'] median "
            f"{pmed['data']:.3f} s"
        )
        ratio = dataset / med[names[2]]
        verdict = "meets" if ratio <= GOAL else "MISSES"
        print(f"((a) - (a'))/(b): {ratio:.2f}x by median -> {verdict} the goal of within {GOAL}x")
        print(f"timings['data']/(b): {pmed['data'] / med[names[2]]:.2f}x")
        print(f"(a)/(b): {med[names[0]] / med[names[2]]:.2f}x (includes the fixed cost)")
        print()

        print(f"peak memory of verify in a fresh process, MiB (batch size {bsz})")
        header = (
            f"{'samples':>8}  {'MiB file':>8}  {'status':>7}  {'wall s':>7}  {'RSS before':>10}  "
            f"{'peak RssAnon':>12}  {'peak RssFile':>12}  {'VmHWM':>7}  {'ru_maxrss':>9}"
        )
        print(header)
        print("-" * len(header))
        for n in (int(x) for x in opts.memory_samples.split(",")):
            path = tmp / f"data_{n}.npz"
            if not path.exists():
                write_npz(path, n)
            r = run_child(onnx_path, path, bsz, opts.threads)
            if r["samples"] != n:
                sys.exit(f"error: child verified {r['samples']} samples, expected {n}")
            print(
                f"{n:>8}  {path.stat().st_size / 2**20:>8.1f}  {r['status']:>7}  "
                f"{r['wall_s']:>7.2f}  {r['rss_before_mb']:>10.1f}  "
                f"{r['peak_rss_anon_mb']:>12.1f}  {r['peak_rss_file_mb']:>12.1f}  "
                f"{r['vm_hwm_mb']:>7.1f}  {r['ru_maxrss_mb']:>9.1f}"
            )


if __name__ == "__main__":
    main()
