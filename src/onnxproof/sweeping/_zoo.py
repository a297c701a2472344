"""zoo.toml → validated model entries, all checked before anything runs.

A zoo is ``[[model]]`` tables (and an optional ``[defaults]`` table every model starts from).
Every key maps to one ``onnxproof run`` option; paths are relative to the zoo file. A mistake
anywhere (an unknown key, a missing file, a bad input spec) is one UsageError naming the model
and the key, so a zoo never half-runs.
"""

from __future__ import annotations

import ast
import importlib.util
import math
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onnxproof.errors import OnnxproofError, UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: A model name is its folder under OUTDIR, so it stays a plain file name.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: Names the sweep's own files take in the output folder.
_RESERVED = ("sweep.json",)
_TORCHSCRIPT_SUFFIXES = (".pt", ".pth", ".ts", ".torchscript", ".jit")


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("must be a non-empty string")
    return value


def _texts(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list):
        raise ValueError("must be a list of strings")
    return tuple(_text(v) for v in value)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("must be a finite number")
    if value < 0:
        raise ValueError("must be >= 0")
    return float(value)


def _positive(value: Any) -> float:
    number = _number(value)
    if number <= 0:
        raise ValueError("must be > 0")
    return number


def _integer(low: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"must be an integer >= {low}")
        return value

    return check


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _choice(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return str(value)

    return check


def _tolerances(value: Any) -> dict[str, tuple[float, float]]:
    if not isinstance(value, dict):
        raise ValueError("must be a table OUTPUT = [ATOL, RTOL]")
    result: dict[str, tuple[float, float]] = {}
    for output, pair in value.items():
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError(f"{output!r} must be [ATOL, RTOL]")
        result[output] = (_number(pair[0]), _number(pair[1]))
    return result


#: key → its check. Each key is the ``onnxproof run`` option of the same name.
_OPTIONS: dict[str, Callable[[Any], Any]] = {
    "inputs": _texts,
    "weights": _text,
    "data": _text,
    "targets": _texts,
    "runtimes": _texts,
    "atol": _number,
    "rtol": _number,
    "tolerances": _tolerances,
    "timeout": _positive,
    "exporter": _choice("auto", "dynamo", "torchscript"),
    "opset": _integer(7),
    "seed": _integer(0),
    "fail_on": _choice("error", "warning"),
    "localize": _flag,
    "batch_size": _integer(1),
    "max_samples": _integer(1),
    "task": _choice("classification"),
    "image_spec": _text,
}
_PATH_KEYS = ("weights", "data")
#: Keys that shape how 'data' is read or judged: `onnxproof run` refuses them without data.
_DATA_KEYS = ("batch_size", "max_samples", "task", "image_spec")
MODEL_KEYS = ("name", "model", *_OPTIONS)


@dataclass(frozen=True, kw_only=True)
class ZooModel:
    """One model of the zoo, validated: its reference with paths made absolute, and options."""

    name: str
    #: The reference as ``onnxproof run`` takes it, paths resolved against the zoo's folder.
    model: str
    #: Validated options by key (paths absolute), the defaults table merged in.
    options: dict[str, Any]
    #: The files the model is read from: the .py, the .pt2, an hf folder's files, weights, data.
    #: None when they cannot be known (``package.module:Name``), so no result is ever reused.
    files: tuple[Path, ...] | None

    @property
    def timeout(self) -> float | None:
        value = self.options.get("timeout")
        return None if value is None else float(value)


@dataclass(frozen=True, kw_only=True)
class Zoo:
    path: Path
    models: tuple[ZooModel, ...]


def load_zoo(path: str | os.PathLike[str]) -> Zoo:
    """Read and validate a zoo file. Raises UsageError (exit 2) naming the model and key."""
    zoo_path = Path(path)
    label = zoo_path.name
    if not zoo_path.is_file():
        raise UsageError(f"{zoo_path}: no such zoo file", hint="give the path of a zoo.toml")
    try:
        data = tomllib.loads(zoo_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"{label}: not valid TOML: {exc}", hint="see 'Model zoo sweep' in the README"
        ) from exc
    unknown = sorted(set(data) - {"model", "defaults"})
    if unknown:
        raise UsageError(
            f"{label}: unknown top-level key {unknown[0]!r}",
            hint="a zoo has [[model]] tables and an optional [defaults] table",
        )
    tables = data.get("model")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise UsageError(
            f"{label}: no [[model]] tables", hint="add one [[model]] table per model to sweep"
        )
    folder = zoo_path.resolve().parent
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise UsageError(f"{label}: defaults must be a table", hint="write it as [defaults]")
    base = _options(defaults, folder, f"{label}: [defaults]", allowed=_OPTIONS)
    models: list[ZooModel] = []
    for index, table in enumerate(tables):
        models.append(_model(table, index, folder, label, base))
    names = [m.name for m in models]
    for name in names:
        if names.count(name) > 1:
            raise UsageError(
                f"{label}: model name {name!r} is used twice", hint="names must be unique"
            )
    return Zoo(path=zoo_path.resolve(), models=tuple(models))


def _model(
    table: dict[str, Any], index: int, folder: Path, label: str, base: dict[str, Any]
) -> ZooModel:
    name = table.get("name")
    where = f"{label}: model {name!r}" if isinstance(name, str) else f"{label}: model #{index + 1}"
    if not isinstance(name, str) or not _NAME_RE.match(name) or name in _RESERVED:
        raise UsageError(
            f"{where}: key 'name' must be a name of letters, digits, '.', '_' or '-'",
            hint="the name is also the model's folder under the output folder",
        )
    # Every key checked first: a misspelt 'model' reads better as an unknown key than a missing one.
    own = _options(table, folder, where, allowed={"name": _text, "model": _text, **_OPTIONS})
    if "model" not in own:
        raise UsageError(
            f"{where}: key 'model' is missing", hint="for example model = 'net.py:Net'"
        )
    reference = own.pop("model")
    own.pop("name")
    options = {**base, **own}
    if "data" not in options:
        for key in _DATA_KEYS:
            if key in own:
                raise UsageError(
                    f"{where}: key {key!r} needs 'data': without it the generated cases are "
                    "compared",
                    hint=f"add data = 'PATH' or drop {key!r}",
                )
            # A default for the models that have data: this one has none.
            options.pop(key, None)
    resolved, files = _reference(reference, folder, where)
    if files is not None:
        files += tuple(Path(options[k]) for k in _PATH_KEYS if k in options)
    return ZooModel(name=name, model=resolved, options=options, files=files)


def _options(
    table: dict[str, Any], folder: Path, where: str, *, allowed: dict[str, Callable[[Any], Any]]
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in table.items():
        if key not in allowed:
            raise UsageError(
                f"{where}: unknown key {key!r}", hint=f"known keys: {', '.join(allowed)}"
            )
        try:
            result[key] = allowed[key](value)
        except ValueError as exc:
            raise UsageError(f"{where}: key {key!r} {exc}") from None
    for key in _PATH_KEYS:
        if key in result:
            path = folder / result[key]
            if not path.exists():
                raise UsageError(
                    f"{where}: key {key!r}: {path} does not exist",
                    hint="paths are relative to the zoo file",
                )
            result[key] = str(path)
    _check_values(result, where)
    return result


def _check_values(options: dict[str, Any], where: str) -> None:
    """Specs, targets and runtimes checked by the same code ``run`` uses, named by model."""
    from onnxproof.linting.targets import target_names
    from onnxproof.runtimes import REGISTRY
    from onnxproof.specs import parse_input_specs

    if "inputs" in options:
        try:
            parse_input_specs(options["inputs"])
        except OnnxproofError as exc:
            raise UsageError(f"{where}: key 'inputs': {exc.message}", hint=exc.hint) from None
    for key, known in (("targets", target_names()), ("runtimes", tuple(REGISTRY))):
        for value in options.get(key, ()):
            if value not in known:
                raise UsageError(
                    f"{where}: key {key!r}: unknown {key[:-1]} {value!r}",
                    hint=f"choose from {', '.join(known)}",
                )


def _reference(reference: str, folder: Path, where: str) -> tuple[str, tuple[Path, ...] | None]:
    """The reference with its path made absolute, and the files it is read from."""
    if reference.startswith("hf:"):
        path = folder / reference[3:]
        if not (path / "config.json").is_file():
            raise UsageError(
                f"{where}: key 'model': {path} is not a folder with a config.json",
                hint="hf:DIR names a folder written by save_pretrained, relative to the zoo file",
            )
        return f"hf:{path}", tuple(sorted(p for p in path.rglob("*") if p.is_file()))
    if ":" not in reference and reference.endswith((".pt2", *_TORCHSCRIPT_SUFFIXES)):
        path = folder / reference
        _require(path, where)
        return str(path), (path,)
    where_part, _, attribute = reference.rpartition(":")
    if not where_part or not attribute:
        raise UsageError(
            f"{where}: key 'model': {reference!r} is not file.py:Name, package.module:Name, "
            "hf:DIR, a .pt2 file or a TorchScript archive",
            hint="for example model = 'nets.py:Net'",
        )
    if where_part.endswith(".py") or "/" in where_part or "\\" in where_part:
        path = folder / where_part
        _require(path, where)
        # The local modules it imports too (layers.py, a utils/ package beside it), transitively.
        imported = _local_imports(path)
        return f"{path}:{attribute}", None if imported is None else (path, *imported)
    return reference, None  # a module on the path: imported by the run, its files unknown here


def _require(path: Path, where: str) -> None:
    if not path.is_file():
        raise UsageError(
            f"{where}: key 'model': {path} does not exist",
            hint="paths are relative to the zoo file",
        )


def _local_imports(source: Path) -> tuple[Path, ...] | None:
    """The .py files ``source`` imports that are not installed packages or the standard library
    (beside it, or found on the path), and those they import, in a stable order.

    None when an import resolves to nothing here (a folder the model adds to ``sys.path`` when it
    runs, say): its files cannot be hashed, so a verdict on the model must never be reused. A
    file that does not parse is left to the run to report.
    """
    seen, todo = {source}, [source]
    while todo:
        current = todo.pop()
        try:
            tree = ast.parse(current.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for head in _import_heads(tree):
            found = _module_files(head, current.parent)
            if found is None:
                return None
            for path in found:
                if path not in seen:
                    seen.add(path)
                    todo.append(path)
    return tuple(sorted(seen - {source}))


def _import_heads(tree: ast.AST) -> list[str]:
    """The top-level names every import in ``tree`` starts from."""
    heads: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            heads += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.module:
                heads.append(node.module.split(".")[0])
            elif node.level:
                heads += [alias.name for alias in node.names]
    return heads


def _module_files(head: str, folder: Path) -> list[Path] | None:
    """The user's .py files behind ``head``: beside the importer, or on the path outside the
    installed packages. [] for the standard library and installed packages (their versions are
    in the key, or they are not the model's); None when it resolves nowhere."""
    module, package = folder / f"{head}.py", folder / head
    found = [module] if module.is_file() else []
    if package.is_dir():
        found += sorted(package.rglob("*.py"))
    if found or head in sys.stdlib_module_names or head in sys.builtin_module_names:
        return found
    try:
        spec = importlib.util.find_spec(head)  # a top-level name: finds, imports nothing
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return None
    origin = spec.origin if spec.origin not in (None, "built-in", "frozen") else None
    places = [Path(origin)] if origin else [Path(p) for p in spec.submodule_search_locations or ()]
    if any(part in ("site-packages", "dist-packages") for p in places for part in p.parts):
        return []
    files: list[Path] = []
    for place in places:
        if place.is_file() and place.suffix == ".py":
            files.append(place)
        elif place.is_dir():
            files += sorted(place.rglob("*.py"))
    return files
