"""Regenerate src/onnxproof/linting/targets/ort-cpu.json from the installed onnxruntime.

Run with the project's environment:  .venv/bin/python scripts/make_ort_cpu_profile.py

What it reads, all from the installed packages (no network, no docs):
  * the CPUExecutionProvider kernel registry (``get_all_opkernel_def``): default-domain ops and
    their type constraints, and com.microsoft contrib ops;
  * the highest default-domain opset this onnxruntime accepts, found by loading a one-node model
    stamped with increasing opsets until the session refuses it;
  * ONNX function ops (ops without a CPU kernel that onnxruntime expands into their ONNX function
    body at load time) and Constant, kept only if a session can be created for at least one of
    the ONNX backend node test cases that use them (``onnx.backend.test.case.node``).

Element types per op are those the kernel registered for the op's *first input* (the dtype the
linter compares), read from the kernels that serve the newest opset (for ops ONNX has
deprecated, from their newest kernel). Types outside the profile vocabulary (uint16, uint32,
uint64, string, float8, int4, ...) are dropped; an op whose first input takes only such types
gets null (not restricted) so string ops are not reported as unsupported.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import re
import sys
import warnings
from collections import defaultdict
from pathlib import Path

import onnx
import onnxruntime  # noqa: TID251 - build-time generator outside the package
from onnx import TensorProto, helper

try:
    from onnxruntime.capi import onnxruntime_pybind11_state as _capi  # noqa: TID251
except ImportError:  # older layouts
    from onnxruntime.capi import _pybind_state as _capi  # type: ignore[no-redef]  # noqa: TID251

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ROOT / "src" / "onnxproof" / "linting" / "targets"
PROVIDER = "CPUExecutionProvider"
DEFAULT_DOMAINS = ("", "ai.onnx")
OPEN_END = 2**31 - 1

#: ORT type strings -> the profile vocabulary (numpy names). Everything else is dropped.
ORT_TO_NUMPY = {
    "float": "float32",
    "float16": "float16",
    "bfloat16": "bfloat16",
    "double": "float64",
    "int8": "int8",
    "uint8": "uint8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "bool": "bool",
}
ORDER = list(ORT_TO_NUMPY.values())
#: Kernels ORT inserts itself; they never appear in an exported model.
INTERNAL_OPS = {"MemcpyFromHost", "MemcpyToHost"}


def dumps_profile(profile: dict) -> str:
    """JSON with 2-space indent, but each op's dtype list on one line."""
    text = json.dumps(profile, indent=2)
    return (
        re.sub(
            r"\[\n\s+((?:\"[a-z0-9]+\",?\n\s+)+)\]",
            lambda m: "[" + ", ".join(re.findall(r'"[a-z0-9]+"', m.group(1))) + "]",
            text,
        )
        + "\n"
    )


def element_types(type_strings: list[str]) -> tuple[set[str], bool]:
    """Numpy names found in ORT type strings (tensor(x), seq(tensor(x)), optional(...));
    second value: whether some type was dropped as outside the vocabulary."""
    found: set[str] = set()
    dropped = False
    for text in type_strings:
        if text.startswith("map("):
            dropped = True
            continue
        for inner in re.findall(r"tensor\(([a-z0-9]+)\)", text):
            if inner in ORT_TO_NUMPY:
                found.add(ORT_TO_NUMPY[inner])
            else:
                dropped = True
    return found, dropped


def _ordered(types: set[str]) -> list[str]:
    return [t for t in ORDER if t in types]


def cpu_kernels() -> list:
    return [k for k in _capi.get_all_opkernel_def() if k.provider == PROVIDER]


def _load_ok(model: onnx.ModelProto) -> bool:
    try:
        onnxruntime.InferenceSession(model.SerializeToString(), providers=[PROVIDER])
    except Exception:
        return False
    return True


def accepted_max_opset(start: int) -> int:
    """Highest default-domain opset a one-node model may be stamped with and still load."""
    best = None
    for opset in range(max(7, start - 2), start + 6):
        graph = helper.make_graph(
            [helper.make_node("Add", ["a", "b"], ["c"])],
            "probe",
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2]) for n in ("a", "b")],
            [helper.make_tensor_value_info("c", TensorProto.FLOAT, [2])],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = min(model.ir_version, 10)
        if _load_ok(model):
            best = opset
        elif best is not None:
            break
    if best is None:
        raise SystemExit("could not load a probe model at any opset")
    return best


def fp16_cast_fallback() -> bool:
    """Whether a float16 node with only a float32 CPU kernel still loads (onnxruntime inserts
    Casts to float32 around it); probed with Add, which has no float16 CPU kernel."""
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["c"])],
        "probe",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT16, [2]) for n in ("a", "b")],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT16, [2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = min(model.ir_version, 9)
    return _load_ok(model)


def first_input_types(op: str, kernels: list) -> tuple[list[str] | None, str]:
    """Types for the op's first input across ``kernels``, and how they were found."""
    start = min(k.version_range[0] for k in kernels)
    union: set[str] = set()
    first: set[str] = set()
    dropped_first = False
    how = "first-input constraint"
    try:
        schema = onnx.defs.get_schema(op, start, "")
    except Exception:
        schema = None
    for kernel in kernels:
        for names in kernel.type_constraints.values():
            union |= element_types(names)[0]
    if schema is None or not schema.inputs:
        how = "union of all constraints (no ONNX schema or no inputs)"
        return (_ordered(union) or None), how
    type_str = schema.inputs[0].type_str
    registered = [k.type_constraints.get(type_str) for k in kernels]
    if any(r is not None for r in registered):
        for names in registered:
            if names:
                found, dropped = element_types(names)
                first |= found
                dropped_first |= dropped
    elif type_str.startswith(("tensor(", "seq(", "optional(")):
        first, dropped_first = element_types([type_str])
        how = "literal type in the ONNX schema"
    else:
        allowed = next(
            (c.allowed_type_strs for c in schema.type_constraints if c.type_param_str == type_str),
            None,
        )
        if allowed is None:
            return (_ordered(union) or None), "union of all constraints (constraint not found)"
        first, dropped_first = element_types(list(allowed))
        how = "ONNX schema constraint (kernel does not restrict it)"
    if not first:
        return None, how + "; only types outside the vocabulary, so null"
    return _ordered(first), how


def function_ops(kernel_ops: set[str], max_opset: int) -> dict[str, str]:
    """Default-domain ops with no CPU kernel that still load (function expansion, Constant)."""
    from onnx.backend.test.case.node import collect_testcases

    names = {
        s.name
        for s in onnx.defs.get_all_schemas_with_history()
        if s.domain == "" and s.since_version <= max_opset
    }
    candidates = sorted(n for n in names - kernel_ops)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = [c for c in collect_testcases(None) if "_expanded" not in c.name]
    result: dict[str, str] = {}
    for op in candidates:
        tried = ok = 0
        for case in cases:
            model = case.model
            if not any(n.op_type == op and n.domain in DEFAULT_DOMAINS for n in model.graph.node):
                continue
            if any(
                o.domain in DEFAULT_DOMAINS and o.version > max_opset for o in model.opset_import
            ):
                continue
            tried += 1
            ok += _load_ok(model)
        if ok:
            result[op] = f"session created for {ok}/{tried} ONNX backend node test models"
    return result


def build(kernels: list) -> dict:
    by_op: dict[str, list] = defaultdict(list)
    ms_ops: set[str] = set()
    for kernel in kernels:
        if kernel.domain in DEFAULT_DOMAINS:
            by_op[kernel.op_name].append(kernel)
        elif kernel.domain == "com.microsoft":
            ms_ops.add(kernel.op_name)
    kernel_max = max(k.version_range[0] for ks in by_op.values() for k in ks)
    max_opset = accepted_max_opset(kernel_max)

    ops: dict[str, list[str] | None] = {}
    old_only: list[str] = []
    for op, ks in sorted(by_op.items()):
        if op in INTERNAL_OPS:
            continue
        live = [k for k in ks if k.version_range[1] >= max_opset]
        if not live:  # ONNX deprecated the op; keep the newest kernel so old-opset models pass
            newest = max(k.version_range[0] for k in ks)
            live = [k for k in ks if k.version_range[0] == newest]
            old_only.append(f"{op} (last kernel opset {max(k.version_range[1] for k in ks)})")
        ops[op], _ = first_input_types(op, live)

    fp16_added = []
    if fp16_cast_fallback():
        for op, types in ops.items():
            if types and "float32" in types and "float16" not in types:
                ops[op] = _ordered(set(types) | {"float16"})
                fp16_added.append(op)

    expanded = function_ops(set(by_op), max_opset)
    for op in expanded:
        ops.setdefault(op, None)
    ops = dict(sorted(ops.items()))

    version = onnxruntime.__version__
    today = _dt.date.today().isoformat()
    typed = sum(1 for v in ops.values() if v is not None)
    notes = (
        f"Generated by scripts/make_ort_cpu_profile.py from onnxruntime {version} "
        f"(CPUExecutionProvider kernel registry) with onnx {onnx.__version__} on {today}. "
        f"Opset {max_opset} is the highest default-domain opset this onnxruntime loads "
        f"(probe model at {max_opset + 1} refused); the newest kernel registration is opset "
        f"{kernel_max}; the installed onnx package defines opset {onnx.defs.onnx_opset_version()}. "
        f"{len(ops)} default-domain ops: {typed} with the element types the kernel accepts for "
        "the first input, read from the kernels that serve the newest opset; the rest are null "
        "(not restricted). Null ops are Constant (folded into initializers at load), ONNX "
        "function ops with no CPU kernel that onnxruntime expands at load time (kept only where "
        "a session could be created for the ONNX backend node tests: "
        + ", ".join(f"{k}" for k in expanded)
        + "), and ops whose first input takes only types outside the profile vocabulary "
        "(string ops). "
        + (
            f"float16 is added to the {len(fp16_added)} ops that have a float32 kernel but no "
            "float16 one: onnxruntime runs such nodes in float32 behind inserted Casts "
            "(probed: a float16 Add, which has no float16 CPU kernel, loads); bfloat16 has no "
            "such fallback. "
            if fp16_added
            else "float16 nodes without a float16 kernel did not load in the probe, so float16 "
            "is listed only where a kernel registers it. "
        )
        + "Types outside the vocabulary (uint16, uint32, uint64, string, float8, "
        "int4, ...) are not listed, so a model using them can be reported as unsupported. "
        + (
            "Ops ONNX has deprecated are listed with their last kernel's types: "
            + ", ".join(old_only)
            + ". "
            if old_only
            else ""
        )
        + "ai.onnx.ml and com.microsoft.nchwc kernels exist too but the profile format has no "
        "field for them. ms_domain_ops lists every com.microsoft op with a CPU kernel. "
        "Types describe the newest op version; an older op version can register fewer types."
    )
    return {
        "name": "ort-cpu",
        "title": "ONNX Runtime (CPU execution provider)",
        "runtime_version": f"onnxruntime {version} (generated from the installed package on {today})",
        "sources": [
            f"onnxruntime {version} Python package: onnxruntime.capi.onnxruntime_pybind11_state."
            "get_all_opkernel_def(), CPUExecutionProvider kernels (ops, type constraints, "
            "version ranges, com.microsoft ops)",
            f"onnxruntime {version}: InferenceSession load of a one-node Add model stamped with "
            "increasing opsets (max_opset)",
            f"onnx {onnx.__version__}: onnx.defs schemas (which type constraint is the first "
            "input) and onnx.backend.test.case.node test models (function-op expansion check)",
        ],
        "max_opset": max_opset,
        "float64": "supported",
        "int64": "supported",
        "dynamic_shapes": "supported",
        "ops": ops,
        "ms_domain_ops": sorted(ms_ops),
        "notes": notes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=TARGETS / "ort-cpu.json")
    args = parser.parse_args(argv)
    profile = build(cpu_kernels())
    args.out.write_text(dumps_profile(profile))
    print(
        f"wrote {args.out} (onnxruntime {onnxruntime.__version__}, max_opset "
        f"{profile['max_opset']}, {len(profile['ops'])} ops, "
        f"{len(profile['ms_domain_ops'])} com.microsoft ops)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
