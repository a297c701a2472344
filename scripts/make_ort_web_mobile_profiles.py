"""Regenerate ort-web.json and ort-mobile.json from ort-cpu.json (run make_ort_cpu_profile.py first).

Both targets run the ONNX Runtime CPU execution provider under another packaging, so their op
tables are the CPU table; what differs (and the documents it comes from) is written below.

    .venv/bin/python scripts/make_ort_web_mobile_profiles.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

TARGETS = Path(__file__).resolve().parents[1] / "src" / "onnxproof" / "linting" / "targets"


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


def web(cpu: dict) -> dict:
    ver = cpu["runtime_version"]
    return {
        "name": "ort-web",
        "title": "ONNX Runtime Web (WebAssembly CPU backend)",
        "runtime_version": (
            f"onnxruntime-web wasm backend; op table taken from {ver}; use an onnxruntime-web "
            "release of the same version for the table to hold"
        ),
        "sources": [
            "https://github.com/microsoft/onnxruntime/blob/main/js/web/README.md: the wasm backend "
            "is the native ONNX Runtime CPU engine compiled with Emscripten and covers all ai.onnx "
            "and ai.onnx.ml operators; browser/Node.js compatibility table (Node.js: single-threaded "
            "wasm only; WebGPU: Chromium-based browsers, not Safari/Firefox/iOS per that table)",
            "https://github.com/microsoft/onnxruntime/blob/main/docs/build/web.md: documented "
            "release build of the wasm artifacts (--build_wasm --skip_tests "
            "--disable_wasm_exception_catching --disable_rtti), i.e. no reduced-operator, "
            "reduced-type or contrib-op-disabling flags; a --minimal_build variant needs ORT-format models",
            "https://onnxruntime.ai/docs/api/js/interfaces/Tensor.DataTypeMap.html: JS tensor types "
            "(float64 as Float64Array, int64 as BigInt64Array, float16 as Uint16Array; no bfloat16 entry)",
            "https://github.com/microsoft/onnxruntime/blob/main/js/web/docs/webgpu-operators.md: "
            "WebGPU EP operator subset (notes only)",
            "ort-cpu.json (this directory): ops, types, max_opset and com.microsoft ops of the CPU EP",
        ],
        "max_opset": cpu["max_opset"],
        "float64": "supported",
        "int64": "supported",
        "dynamic_shapes": "supported",
        "ops": cpu["ops"],
        "ms_domain_ops": cpu["ms_domain_ops"],
        "notes": (
            "The wasm backend compiles the CPU execution provider, so ops, element types, "
            "com.microsoft ops and max_opset are copied from ort-cpu.json; they were read from the "
            "native Python package, not from an onnxruntime-web build, and hold only for an "
            "onnxruntime-web release of that version. Not checked here: whether a given "
            "onnxruntime-web release drops any kernel or type relative to the native CPU build "
            "(the documented release build command has no flag that would). The JavaScript Tensor "
            "API has no bfloat16 type, so bfloat16 model inputs and outputs cannot be passed from "
            "JavaScript even where kernels exist; float64 and int64 tensors are supported through "
            "Float64Array and BigInt64Array. The profile format has no ai.onnx.ml field although "
            "the README states ai.onnx.ml ops are covered. WebGPU backend (not profiled): an "
            "execution provider with its own, smaller operator list (js/web/docs/webgpu-operators.md); "
            "nodes it does not take run on the wasm CPU backend, and per the README compatibility "
            "table it is available in Chromium-based browsers but not in Safari, Firefox or on iOS. "
            "WebGL is in maintenance mode per the README. Types this profile cannot name (uint16, "
            "uint32, uint64, string, float8, int4) are not listed; see ort-cpu.json notes."
        ),
    }


def mobile(cpu: dict) -> dict:
    ver = cpu["runtime_version"]
    return {
        "name": "ort-mobile",
        "title": "ONNX Runtime Mobile (onnxruntime-android, onnxruntime-c / onnxruntime-objc pods)",
        "runtime_version": (
            f"full mobile packages (ONNX Runtime 1.19 and later); op table taken from {ver}; use "
            "a mobile package of the same version for the table to hold"
        ),
        "sources": [
            "https://github.com/microsoft/onnxruntime/pull/21605 (merged 2024-08): the reduced-operator "
            "'mobile' packages (onnxruntime-mobile for Android, onnxruntime-mobile-c/objc for iOS) "
            "were removed in ONNX Runtime 1.19",
            "https://central.sonatype.com/artifact/com.microsoft.onnxruntime/onnxruntime-android: "
            "package description: all operators and types, ONNX format models",
            "https://mvnrepository.com/artifact/com.microsoft.onnxruntime/onnxruntime-mobile: last "
            "onnxruntime-mobile release 1.18.0 (2024-05-20); it required ORT-format models and a "
            "reduced operator/type set",
            "https://onnxruntime.ai/docs/build/custom.html: reduced builds (--include_ops_by_config, "
            "--enable_reduced_operator_type_support, --minimal_build)",
            "https://onnxruntime.ai/docs/tutorials/mobile/helpers/make-dynamic-shape-fixed.html: "
            "NNAPI and CoreML execution providers do not support dynamic input shapes",
            "ort-cpu.json (this directory): ops, types, max_opset and com.microsoft ops of the CPU EP",
        ],
        "max_opset": cpu["max_opset"],
        "float64": "supported",
        "int64": "supported",
        "dynamic_shapes": "partial",
        "ops": cpu["ops"],
        "ms_domain_ops": cpu["ms_domain_ops"],
        "notes": (
            "Since ONNX Runtime 1.19 the published mobile packages (onnxruntime-android on Maven, "
            "the onnxruntime-c and onnxruntime-objc pods) are full builds: every CPU operator and "
            "type, and plain ONNX models. The ops, types, com.microsoft ops and max_opset here are "
            "therefore copied from ort-cpu.json (native Python package of the stated version); they "
            "hold for a mobile package of that version. The old reduced packages (onnxruntime-mobile, "
            "last release 1.18.0) accepted only ORT-format models and a reduced operator set whose "
            "documented input types were float, int8 and uint8 (int32/int64 for shape and index "
            "ops); they are no longer published. A custom reduced build (--include_ops_by_config "
            "with a config generated from your models, optionally --enable_reduced_operator_type_support "
            "and --minimal_build) contains only the ops and types in that config and, with "
            "--minimal_build, loads only ORT-format models; this profile cannot describe such a "
            "build: regenerate the config from the exact exported model. dynamic_shapes is partial: "
            "the CPU execution provider runs dynamic shapes, but the NNAPI (Android) and CoreML "
            "(iOS) execution providers do not take dynamic input shapes, so such nodes fall back "
            "to the CPU; ONNX Runtime ships onnxruntime.tools.make_dynamic_shape_fixed for this. "
            "Types this profile cannot name (uint16, uint32, uint64, string, float8, int4) are not "
            "listed; see ort-cpu.json notes."
        ),
    }


def main() -> int:
    cpu = json.loads((TARGETS / "ort-cpu.json").read_text())
    for profile in (web(cpu), mobile(cpu)):
        path = TARGETS / f"{profile['name']}.json"
        path.write_text(dumps_profile(profile))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
