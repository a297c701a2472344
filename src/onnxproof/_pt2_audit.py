"""Refuse a ``.pt2`` archive whose loading could run code from the file. Pure Python, no torch.

``torch.export.load`` (torch 2.13) runs code from the archive in several places: pickled weights and
constants (``use_pickle``) and legacy ``.pt`` weights go through ``torch.load(weights_only=False)``;
opaque constants through ``pickle.loads``; torchbind objects through the TorchScript unpickler;
AOTInductor packages are shared libraries it loads; the sample inputs fall back to
``weights_only=False`` when the safe load fails; shape expressions go through ``sympy.sympify``
(which is ``eval``); ``guards_code`` is pasted into Python source and ``exec``-ed by
``ExportedProgram.module()``; parameter names are pasted into the GraphModule's generated source;
and node targets resolve to any attribute of ``torch``, ``math`` or ``operator`` (``torch.os.system``
included), called when the program runs.

A genuine ``torch.export.save`` of an ordinary model uses none of the dangerous forms, so this
module allows only what such a file holds and refuses the rest, with the reason. The caller
supplies the archive's records as torch's own zip reader sees them (a zip can show different
entries to different readers) and the checks that need torch (node targets, the weights-only
load of the sample inputs).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from onnxproof.errors import ModelLoadError

#: Directory names inside the archive (torch/csrc/export/pt2_archive_constants.h in torch 2.13).
AOTINDUCTOR_DIR = "data/aotinductor/"
WEIGHTS_DIR = "data/weights/"
CONSTANTS_DIR = "data/constants/"
MODELS_DIR = "models/"
SAMPLE_INPUTS = "data/sample_inputs/{}.pt"
WEIGHTS_CONFIG = "data/weights/{}_weights_config.json"
CONSTANTS_CONFIG = "data/constants/{}_constants_config.json"
ARCHIVE_FORMAT = ("archive_format", "pt2")
TENSOR_CONSTANT_PREFIX = "tensor_"

#: Names a parameter, buffer, node or argument may have: pasted into generated Python source.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.]*$")
_NAME_KEYS = frozenset(
    {
        "name",
        "as_name",
        "parameter_name",
        "buffer_name",
        "tensor_constant_name",
        "custom_obj_name",
        "fqn",
        "forward_arg_names",
    }
)

#: Callables a shape expression (sympy ``srepr`` text) may use: sympy's constructors and the
#: functions of ``torch.utils._sympy.functions`` that torch's deserializer offers to sympify.
SYMPY_CALLS = frozenset(
    {
        "Symbol", "Integer", "Rational", "Float", "Add", "Mul", "Pow", "Mod", "Max", "Min", "Abs",
        "Eq", "Ne", "Lt", "Le", "Gt", "Ge", "Equality", "Unequality", "StrictLessThan",
        "StrictGreaterThan", "LessThan", "GreaterThan", "And", "Or", "Not", "Piecewise",
        "ExprCondPair", "BooleanTrue", "BooleanFalse", "IntInfinity", "NegativeIntInfinity",
        "Infinity", "NegativeInfinity", "FloorDiv", "ModularIndexing", "Where", "PythonMod",
        "CleanDiv", "CeilToInt", "FloorToInt", "CeilDiv", "LShift", "RShift", "PowByNatural",
        "FloatPow", "FloatTrueDiv", "IntTrueDiv", "IsNonOverlappingAndDenseIndicator",
        "TruncToFloat", "TruncToInt", "RoundToInt", "RoundDecimal", "ToFloat", "Identity",
        "OpaqueUnaryFn_sqrt", "BitwiseFn_bitwise_and", "BitwiseFn_bitwise_or",
    }
)  # fmt: skip
_SYMBOL = re.compile(r"^[a-z]+[0-9]*$")  # s77, u0, zuf0, ps1, oo, zoo, nan, true, false

#: What a guard (Python text over ``L[...]``, the program's inputs) may call.
_GUARD_METHODS = frozenset({"size", "stride", "storage_offset", "dim", "numel"})
_GUARD_MODULE_CALLS = {
    "math": frozenset({"floor", "ceil", "trunc", "sqrt", "log2", "pow"}),
    "torch": frozenset({"sym_max", "sym_min", "sym_int", "sym_float", "sym_sqrt", "sym_not"}),
}
_GUARD_FUNCTIONS = frozenset(
    {"IsNonOverlappingAndDenseIndicator", "cast_symbool_to_symint_guardless", "abs", "min", "max"}
)
_OPERATORS = (ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.expr_context)


def audit_pt2(
    names: list[str],
    read: Callable[[str], bytes],
    *,
    is_safe_target: Callable[[str], bool],
    where: str,
) -> list[str]:
    """Raise ModelLoadError unless loading the archive would run no code from it.

    ``names`` and ``read`` are the archive's records (paths below its root folder), as torch
    reads them. Returns the sample-input records, which the caller must load with
    ``weights_only=True`` before torch does (torch falls back to full unpickling otherwise).
    """
    name_set = set(names)
    fmt_path, fmt_value = ARCHIVE_FORMAT
    if fmt_path not in name_set or read(fmt_path).decode(errors="replace") != fmt_value:
        raise _refuse(where, "it is not a torch.export archive (no archive_format 'pt2' record)")
    for name in names:
        if name.startswith(AOTINDUCTOR_DIR):
            raise _refuse(where, f"it holds AOTInductor binaries ({name}), native code")
    models = [n for n in names if n.startswith(MODELS_DIR) and n.endswith(".json")]
    if not models:
        raise _refuse(where, "it holds no exported program (models/*.json)")
    samples = []
    for model_file in models:
        model = model_file[len(MODELS_DIR) : -len(".json")]
        for directory in (WEIGHTS_DIR, CONSTANTS_DIR):
            if f"{directory}{model}.pt" in name_set:
                raise _refuse(where, f"its {directory}{model}.pt is a pickle (an old format)")
        for template in (WEIGHTS_CONFIG, CONSTANTS_CONFIG):
            record = template.format(model)
            if record in name_set:  # torch refuses a missing config itself
                _check_payload_config(read(record), record, where)
        program = _json(read(model_file), model_file, where)
        _check_program(program, is_safe_target, f"{where}: {model_file}")
        sample = SAMPLE_INPUTS.format(model)
        if sample in name_set:
            samples.append(sample)
    return samples


def _refuse(where: str, reason: str) -> ModelLoadError:
    return ModelLoadError(
        f"{where} is refused: {reason}; loading it could run code from the file",
        hint="re-save the program with torch.export.save from a trusted source, or give the "
        "model as file.py:Name",
    )


def _json(data: bytes, record: str, where: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _refuse(where, f"{record} is not JSON ({exc})") from exc


def _check_payload_config(data: bytes, record: str, where: str) -> None:
    loaded = _json(data, record, where)
    config = loaded.get("config", {}) if isinstance(loaded, dict) else None
    if not isinstance(config, dict):
        raise _refuse(where, f"{record} is malformed")
    for fqn, payload in config.items():
        if not isinstance(payload, dict):
            raise _refuse(where, f"{record} is malformed")
        if not _SAFE_NAME.match(fqn):
            raise _refuse(where, f"{record} names a tensor {fqn!r}, which is not a dotted name")
        if payload.get("use_pickle", False) is not False:
            raise _refuse(where, f"{fqn!r} in {record} is stored as a pickle")
        path_name = payload.get("path_name", "")
        if record.startswith(CONSTANTS_DIR) and not str(path_name).startswith(
            TENSOR_CONSTANT_PREFIX
        ):
            raise _refuse(where, f"constant {fqn!r} is a Python or TorchScript object")


def _check_program(program: Any, is_safe_target: Callable[[str], bool], where: str) -> None:
    guards = program.get("guards_code", []) if isinstance(program, dict) else None
    if not isinstance(guards, list):
        raise _refuse(where, "its guards_code is malformed")
    for guard in guards:
        if not isinstance(guard, str) or not _safe_guard(guard):
            raise _refuse(where, f"guard {str(guard)[:80]!r} is not a plain shape check")
    for key, value, parent in _walk(program):
        if key == "expr_str":
            if not isinstance(value, str) or not _safe_sympy(value):
                raise _refuse(where, f"shape expression {str(value)[:80]!r} is not plain sympy")
        elif key == "target" and isinstance(parent, dict) and "inputs" in parent:
            if not isinstance(value, str) or not is_safe_target(value):
                raise _refuse(where, f"node target {str(value)[:80]!r} is not a torch operator")
        elif key == "as_operator":
            if not isinstance(value, str) or not is_safe_target(value):
                raise _refuse(where, f"operator {str(value)[:80]!r} is not a torch operator")
        elif key in _NAME_KEYS:
            values = value if isinstance(value, list) else [value]
            for item in values:
                if not isinstance(item, str) or not _SAFE_NAME.match(item):
                    raise _refuse(where, f"{key} {str(item)[:80]!r} is not a plain name")


def _walk(value: Any, key: str | None = None, parent: Any = None) -> Iterator[tuple[Any, Any, Any]]:
    """Every (key, value, containing dict) in a JSON tree, lists looked through."""
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)) and k not in _NAME_KEYS:
                yield from _walk(v, k, value)
            else:
                yield k, v, value
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, key, parent)


def _safe_sympy(text: str) -> bool:
    """sympify evaluates its text: allow only constructor calls, symbols, numbers, operators."""
    tree = _parse(text)
    if tree is None:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in SYMPY_CALLS:
                return False
        elif isinstance(node, ast.Name):
            if node.id not in SYMPY_CALLS and not _SYMBOL.match(node.id):
                return False
        elif isinstance(node, ast.Constant):
            if not _plain_constant(node.value):
                return False
        elif not isinstance(
            node, (ast.Expression, ast.keyword, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp,
                   ast.Tuple, *_OPERATORS)
        ):  # fmt: skip
            return False
    return True


def _safe_guard(text: str) -> bool:
    """A guard is exec-ed as Python: allow only arithmetic over input sizes and a few functions."""
    tree = _parse(text)
    if tree is None:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                ok = func.id in _GUARD_FUNCTIONS
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                ok = func.attr in _GUARD_MODULE_CALLS.get(func.value.id, ()) or (
                    func.value.id == "L" and func.attr in _GUARD_METHODS
                )
            else:
                ok = isinstance(func, ast.Attribute) and func.attr in _GUARD_METHODS
            if not ok or node.keywords:
                return False
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("_"):
                return False
        elif isinstance(node, ast.Name):
            if node.id not in ("L", *_GUARD_MODULE_CALLS, *_GUARD_FUNCTIONS):
                return False
        elif isinstance(node, ast.Constant):
            if not _plain_constant(node.value):
                return False
        elif not isinstance(
            node, (ast.Expression, ast.Subscript, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp,
                   ast.IfExp, *_OPERATORS)
        ):  # fmt: skip
            return False
    return True


def _parse(text: str) -> ast.Expression | None:
    if len(text) > 100_000:
        return None
    try:
        return ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _plain_constant(value: Any) -> bool:
    """Numbers, booleans, None, and strings that are names (no quotes to break out of)."""
    if isinstance(value, str):
        return bool(_SAFE_NAME.match(value))
    return value is None or isinstance(value, (bool, int, float))
