"""Validate the target profile JSON files: exact keys, value kinds, dtype vocabulary.

.venv/bin/python scripts/check_target_profiles.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TARGETS = Path(__file__).resolve().parents[1] / "src" / "onnxproof" / "linting" / "targets"
EXPECTED = {"ort-cpu", "ort-web", "ort-mobile", "tensorrt", "openvino", "coreml"}
KEYS = [
    "name",
    "title",
    "runtime_version",
    "sources",
    "max_opset",
    "float64",
    "int64",
    "dynamic_shapes",
    "ops",
    "ms_domain_ops",
    "notes",
]
DTYPES = {
    "float32",
    "float16",
    "bfloat16",
    "float64",
    "int8",
    "uint8",
    "int16",
    "int32",
    "int64",
    "bool",
}
SUPPORT = {"supported", "unsupported", "partial"}


def problems(path: Path) -> list[str]:
    out: list[str] = []
    with path.open() as handle:
        data = json.load(handle)
    if sorted(data) != sorted(KEYS):
        out.append(f"keys {sorted(data)} != {sorted(KEYS)}")
        return out
    if data["name"] != path.stem:
        out.append(f"name {data['name']!r} != file stem")
    for key in ("title", "runtime_version", "notes"):
        if not isinstance(data[key], str) or not data[key].strip():
            out.append(f"{key} must be a non-empty string")
    if not isinstance(data["sources"], list) or not all(
        isinstance(s, str) and s for s in data["sources"]
    ):
        out.append("sources must be a list of non-empty strings")
    if data["max_opset"] is not None and not (
        isinstance(data["max_opset"], int) and data["max_opset"] > 0
    ):
        out.append("max_opset must be a positive int or null")
    for key in ("float64", "int64", "dynamic_shapes"):
        if data[key] not in SUPPORT:
            out.append(f"{key}={data[key]!r} not in {sorted(SUPPORT)}")
    ops = data["ops"]
    if ops is not None:
        if not isinstance(ops, dict):
            out.append("ops must be an object or null")
        else:
            for op, types in ops.items():
                if types is None:
                    continue
                if not isinstance(types, list) or not types:
                    out.append(f"ops[{op}] must be a non-empty list or null")
                    continue
                bad = [t for t in types if t not in DTYPES]
                if bad:
                    out.append(f"ops[{op}] has unknown dtypes {bad}")
                if len(set(types)) != len(types):
                    out.append(f"ops[{op}] has duplicates")
    ms = data["ms_domain_ops"]
    if ms is not None and not (isinstance(ms, list) and all(isinstance(o, str) for o in ms)):
        out.append("ms_domain_ops must be a list of strings or null")
    return out


def main() -> int:
    failed = False
    found = {p.stem for p in TARGETS.glob("*.json")}
    if found != EXPECTED:
        print(f"profiles present {sorted(found)}, expected {sorted(EXPECTED)}")
        failed = True
    for path in sorted(TARGETS.glob("*.json")):
        issues = problems(path)
        data = json.loads(path.read_text())
        ops = data.get("ops")
        count = "no list" if ops is None else len(ops)
        print(
            f"{path.stem:11} max_opset={data.get('max_opset')!s:4} float64={data.get('float64'):11} "
            f"int64={data.get('int64'):11} dynamic={data.get('dynamic_shapes'):11} ops={count} "
            f"ms={len(data.get('ms_domain_ops') or [])}" + ("" if not issues else "  FAIL")
        )
        for issue in issues:
            print(f"    {issue}")
        failed |= bool(issues)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
