"""The ``reproduce.py`` a repro bundle carries: numpy and onnxruntime only, no onnxproof.

Its closeness rule is the one of ``verification/metrics.py``, written out again on purpose: the
script must run where onnxproof is not installed. ``tests/report/test_repro.py`` checks that it
prints the report's figures.
"""

from __future__ import annotations

SCRIPT = '''\
#!/usr/bin/env python3
"""Re-run the ONNX model on the saved inputs and compare with PyTorch's saved outputs.

Needs only numpy and onnxruntime:
    python -m pip install numpy onnxruntime
    python reproduce.py
Exit code 1 while an output still differs beyond its tolerance, 0 once every output agrees.
Closeness: |onnx - torch| <= atol + rtol * |torch| elementwise; NaN matches only NaN; integer
and bool outputs compare exactly.
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

HERE = Path(__file__).resolve().parent


def compare(actual, expected, atol, rtol):
    """(max abs difference, elements outside the tolerance, elements, shape problem)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape:
        size = max(actual.size, expected.size)
        why = f"shape {list(actual.shape)} where PyTorch gives {list(expected.shape)}"
        return float("inf"), size, size, why
    if expected.size == 0:
        return 0.0, 0, 0, None
    if actual.dtype.kind in "biu" and expected.dtype.kind in "biu":
        diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
        return float(diff.max()), int(np.count_nonzero(actual != expected)), expected.size, None
    a, b = actual.astype(np.float64), expected.astype(np.float64)
    exempt = (np.isnan(a) & np.isnan(b)) | (np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b)))
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(exempt, 0.0, np.abs(a - b))
    diff = np.where(np.isnan(diff), np.inf, diff)
    abs_b = np.where(np.isfinite(b), np.abs(b), 0.0)
    outside = int(np.count_nonzero(~(diff <= atol + rtol * abs_b)))
    return float(diff.max()), outside, expected.size, None


def check(title, model_file, entries, inputs, expected, tolerances):
    """Run every entry through the model; print one line per output; True when all agree."""
    session = ort.InferenceSession(str(HERE / model_file), providers=["CPUExecutionProvider"])
    worst = {}
    for entry in entries:
        feeds = {name: inputs[key] for name, key in entry["inputs"].items()}
        names = list(entry["outputs"])
        got = dict(zip(names, session.run(names, feeds)))
        for name, key in entry["outputs"].items():
            atol, rtol = tolerances[name]
            biggest, outside, size, why = compare(got[name], expected[key], atol, rtol)
            old = worst.get(name, (0.0, 0, 0, None))
            worst[name] = (max(old[0], biggest), old[1] + outside, old[2] + size, old[3] or why)
    print(f"{title} ({len(entries)} case(s)):")
    agree = True
    for name, (biggest, outside, size, why) in worst.items():
        atol, rtol = tolerances[name]
        verdict = "agrees" if outside == 0 else f"DIFFERS on {outside} of {size} elements"
        extra = f"; {why}" if why else ""
        print(
            f"  output {name}: max abs diff {biggest:.6e} "
            f"(atol {atol:g}, rtol {rtol:g}) {verdict}{extra}"
        )
        agree = agree and outside == 0
    return agree


def main():
    manifest = json.loads((HERE / "cases.json").read_text())
    tolerances = {
        name: (t["atol"], t["rtol"])
        for name, t in json.loads((HERE / "tolerances.json").read_text()).items()
    }
    with np.load(HERE / "inputs.npz") as inputs, np.load(HERE / "expected.npz") as expected:
        agree = check(
            manifest["model"],
            manifest["model"],
            manifest["cases"],
            dict(inputs),
            dict(expected),
            tolerances,
        )
    module = manifest.get("module")
    if module and module.get("model"):
        with np.load(HERE / module["inputs_file"]) as inputs:
            with np.load(HERE / module["expected_file"]) as expected:
                tol = (module["atol"], module["rtol"])
                check(
                    f"module {module['name']} alone ({module['model']})",
                    module["model"],
                    [{"inputs": module["inputs"], "outputs": module["outputs"]}],
                    dict(inputs),
                    dict(expected),
                    {name: tol for name in module["outputs"]},
                )
    print("the ONNX model agrees with PyTorch" if agree else "the ONNX model still differs")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
'''
