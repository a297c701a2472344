"""Model references → nn.Module: ``file.py:Name``, ``pkg.mod:Name``, ``.pt2``, TorchScript."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import io
import logging
import math
import operator
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onnxproof._paths import file_problem
from onnxproof._pt2_audit import audit_pt2
from onnxproof._warnings import warnings_logged
from onnxproof.errors import ModelLoadError

TORCH_INSTALL = "pip install -c constraints.txt torch==2.13.0"

try:
    import torch
except ImportError as _exc:  # the CLI maps this to a message, not "a bug in onnxproof"
    raise ModelLoadError(
        f"PyTorch (torch) is not installed, and loading a PyTorch model needs it ({_exc})",
        hint=f"install it with: {TORCH_INSTALL}",
    ) from _exc

log = logging.getLogger(__name__)

#: A module class may name its inputs itself with this attribute (a sequence of spec strings).
SPEC_ATTRIBUTE = "onnxproof_inputs"
BUILTIN_EXAMPLE = "builtin:SimpleNet"
_TORCHSCRIPT_SUFFIXES = (".pt", ".pth", ".ts", ".torchscript", ".jit")


@dataclass(frozen=True, kw_only=True)
class LoadedModel:
    """A model ready to export: the module, where it came from, and what it says of its inputs."""

    module: torch.nn.Module
    reference: str
    declared_specs: tuple[str, ...] = ()
    example_args: tuple[Any, ...] | None = None
    #: True when onnxproof called a class's constructor (training mode is then just the default).
    built_here: bool = False
    exported_program: Any = None  # torch.export.ExportedProgram when loaded from .pt2


def builtin_example_path() -> Path:
    """The tutorial's SimpleNet: packaged in wheels, or the repo's examples/ in a checkout."""
    packaged = Path(__file__).parent / "_example" / "simple_net.py"
    if packaged.exists():
        return packaged
    return Path(__file__).resolve().parents[2] / "examples" / "simple_net.py"


def load_model(reference: str | None, *, weights: str | Path | None = None) -> LoadedModel:
    """Resolve a model reference. Raises ModelLoadError with what to do when it cannot."""
    if reference is None or reference == BUILTIN_EXAMPLE:
        loaded = _load_attribute(f"{builtin_example_path()}:SimpleNet", BUILTIN_EXAMPLE)
    elif reference.startswith("hf:"):
        from onnxproof.loading_hf import load_folder

        loaded = LoadedModel(module=load_folder(reference), reference=reference, built_here=True)
    elif reference.endswith(".pt2") and ":" not in reference:
        loaded = _load_exported_program(Path(reference))
    elif reference.endswith(_TORCHSCRIPT_SUFFIXES) and ":" not in reference:
        loaded = _load_torchscript(Path(reference))
    elif ":" in reference:
        loaded = _load_attribute(reference, reference)
    else:
        raise ModelLoadError(
            f"model reference {reference!r} is not path/to/file.py:Name, package.module:Name, "
            "a .pt2 file or a TorchScript archive",
            hint="for example examples/simple_net.py:SimpleNet",
        )
    if weights is not None:
        load_weights(loaded.module, Path(weights))
    return loaded


def _load_attribute(reference: str, shown: str) -> LoadedModel:
    where, _, name = reference.rpartition(":")
    if not where or not name:
        raise ModelLoadError(f"model reference {reference!r} needs the form WHERE:Name")
    module = _import_where(where)
    if not hasattr(module, name):
        public = sorted(
            n
            for n, v in vars(module).items()
            if not n.startswith("_") and isinstance(v, type) and issubclass(v, torch.nn.Module)
        )
        raise ModelLoadError(
            f"{where} has no attribute {name!r}",
            hint=f"nn.Module classes there: {', '.join(public) or 'none'}",
        )
    target = getattr(module, name)
    instance = _instantiate(target, shown)
    declared = getattr(instance, SPEC_ATTRIBUTE, None) or getattr(target, SPEC_ATTRIBUTE, None)
    # A string is iterable (one spec per character), a number is not: both are refused here.
    if declared is not None and (
        not isinstance(declared, list | tuple) or not all(isinstance(s, str) for s in declared)
    ):
        raise ModelLoadError(
            f"{shown}: {SPEC_ATTRIBUTE} must be a list of input spec strings, got {declared!r}",
            hint=f"for example {SPEC_ATTRIBUTE} = ['x:float32[batch,3]']",
        )
    return LoadedModel(
        module=instance,
        reference=shown,
        declared_specs=tuple(declared or ()),
        built_here=isinstance(target, type),
    )


def _import_where(where: str) -> Any:
    if where.endswith(".py") or "/" in where or "\\" in where:
        path = Path(where)
        problem = file_problem(path, "model file")
        if problem is not None:
            raise ModelLoadError(problem, hint="check the path before the ':'")
        module_name = f"onnxproof_user_{abs(hash(str(path.resolve())))}"
        if module_name in sys.modules:
            # Executing a file again would redefine its classes and re-register any custom ops.
            return sys.modules[module_name]
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise ModelLoadError(f"cannot import {where} as a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        # The file's own folder is importable, as it would be with `python file.py`.
        sys.path.insert(0, str(path.resolve().parent))
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(module_name, None)
            raise ModelLoadError(
                f"importing {where} failed: {type(exc).__name__}: {exc}",
                hint="run `python " + where + "` to see the full error",
            ) from exc
        finally:
            sys.path.remove(str(path.resolve().parent))
        return module
    try:
        return importlib.import_module(where)
    except ModuleNotFoundError as exc:
        raise ModelLoadError(
            f"cannot import module {where!r}: {exc}",
            hint="install the package, or give a file path such as models/net.py:Name",
        ) from exc
    except Exception as exc:
        raise ModelLoadError(f"importing {where} failed: {type(exc).__name__}: {exc}") from exc


def _instantiate(target: Any, shown: str) -> torch.nn.Module:
    if isinstance(target, torch.nn.Module):
        return target
    if not callable(target):
        raise ModelLoadError(
            f"{shown} is a {type(target).__name__}, not an nn.Module class or a factory function"
        )
    required = _required_parameters(target)
    if required:
        raise ModelLoadError(
            f"{shown} needs constructor arguments ({', '.join(required)})",
            hint="add a zero-argument function that returns the built model and name it instead",
        )
    try:
        instance = target()
    except Exception as exc:
        raise ModelLoadError(
            f"building {shown} failed: {type(exc).__name__}: {exc}",
        ) from exc
    if not isinstance(instance, torch.nn.Module):
        raise ModelLoadError(
            f"{shown}() returned a {type(instance).__name__}, not an nn.Module",
            hint="name an nn.Module subclass or a function that returns one",
        )
    return instance


def _required_parameters(target: Any) -> list[str]:
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in signature.parameters.values()
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


def _load_exported_program(path: Path) -> LoadedModel:
    _require_file(path, "model file")
    try:
        _audit_exported_program(path)
        program = torch.export.load(str(path))
    except ModelLoadError:
        raise
    except Exception as exc:
        raise ModelLoadError(
            f"{path} is not a loadable torch.export program: {type(exc).__name__}: "
            f"{_first_line(exc)}",
            hint="save it with torch.export.save(torch.export.export(model, args), path)",
        ) from exc
    args, _kwargs = program.example_inputs or ((), {})
    return LoadedModel(
        module=program.module(),
        reference=str(path),
        example_args=tuple(args),
        exported_program=program,
    )


def _audit_exported_program(path: Path) -> None:
    """Refuse a .pt2 that torch.export.load would run code from (see onnxproof._pt2_audit)."""
    from torch.export.pt2_archive import PT2ArchiveReader

    where = str(path)
    with zipfile.ZipFile(path) as zf:
        # torch.export.load falls back to the pre-2.8 layout, read with zipfile and unpickled
        # with weights_only=False, whenever the current layout fails to load
        if "version" in zf.namelist():
            raise ModelLoadError(
                f"{where} is refused: it uses the pre-2.8 torch.export layout, whose weights "
                "are unpickled with weights_only=False; loading it could run code from the file",
                hint="re-save it with torch.export.save from torch 2.13",
            )
    reader = PT2ArchiveReader(where)  # the same zip reader torch.export.load uses
    samples = audit_pt2(
        reader.get_file_names(), reader.read_bytes, is_safe_target=_is_torch_op, where=where
    )
    for record in samples:
        try:  # torch tries weights_only=True first and unpickles fully if that fails
            torch.load(io.BytesIO(reader.read_bytes(record)), weights_only=True)
        except Exception as exc:
            raise ModelLoadError(
                f"{where} is refused: its {record} holds more than tensors "
                f"({type(exc).__name__}); loading it could run code from the file",
                hint="re-save the program with example inputs that are plain tensors",
            ) from exc


def _is_torch_op(target: str) -> bool:
    """Whether a node target resolves, as torch's deserializer resolves it, to an operator."""
    from torch._export.serde.serialize import _SYM_OPS

    roots = {"torch": torch, "_operator": operator, "math": math}
    head, _, rest = target.partition(".")
    if head not in roots or not rest:
        return False
    value: Any = roots[head]
    for part in rest.split("."):
        if part.startswith("_") or not hasattr(value, part):
            return False
        value = getattr(value, part)
    ops = (torch._ops.OpOverload, torch._ops.OpOverloadPacket, torch._ops.HigherOrderOperator)
    return isinstance(value, ops) or value in _SYM_OPS or value is operator.getitem


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else "no details"


def _require_file(path: Path, what: str) -> None:
    problem = file_problem(path, what)
    if problem is not None:
        raise ModelLoadError(problem, hint="check the path")


def _load_torchscript(path: Path) -> LoadedModel:
    _require_file(path, "model file")
    try:
        module = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:
        raise ModelLoadError(
            f"{path} is not a TorchScript archive ({type(exc).__name__})",
            hint="a state dict goes with --weights beside a model reference such as net.py:Net",
        ) from exc
    return LoadedModel(module=module, reference=str(path))


def load_weights(module: torch.nn.Module, path: Path) -> None:
    """Load a state dict (.pt/.pth with weights_only=True, or .safetensors) strictly."""
    _require_file(path, "weights file")
    state: Any
    safetensors = path.suffix == ".safetensors"
    try:
        if safetensors:
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            with warnings_logged(log):
                state = torch.load(str(path), map_location="cpu", weights_only=True)
    except ImportError as exc:
        raise ModelLoadError(
            "reading .safetensors needs the safetensors package",
            hint="pip install 'onnxproof[safetensors]'",
        ) from exc
    except Exception as exc:
        hint = (
            "the file is not a valid safetensors file: write it with "
            "safetensors.torch.save_file(model.state_dict(), path)"
            if safetensors
            else "weights are loaded with weights_only=True: save a plain state_dict"
        )
        raise ModelLoadError(
            f"cannot read weights {path}: {type(exc).__name__}: {_first_line(exc)}", hint=hint
        ) from exc
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ModelLoadError(f"{path} holds a {type(state).__name__}, not a state dict")
    _check_weight_shapes(module, state, path)
    try:
        result = module.load_state_dict(state, strict=False)
    except Exception as exc:  # e.g. a value that is not a tensor
        raise ModelLoadError(
            f"weights {path} do not fit the model: {type(exc).__name__}: {_first_line(exc)}",
            hint="check that the weights were saved from this model class",
        ) from exc
    if result.missing_keys or result.unexpected_keys:
        raise ModelLoadError(
            f"weights {path} do not fit the model: missing {list(result.missing_keys)[:5]}, "
            f"unexpected {list(result.unexpected_keys)[:5]}",
            hint="check that the weights were saved from this model class",
        )
    log.info("loaded weights from %s", path)


def _check_weight_shapes(module: torch.nn.Module, state: dict[Any, Any], path: Path) -> None:
    """Name the first tensor whose shape differs; load_state_dict lists them all in a traceback."""
    expected = module.state_dict()
    for key, value in state.items():
        if key not in expected or not isinstance(value, torch.Tensor):
            continue  # missing and unexpected keys are reported together afterwards
        if tuple(value.shape) != tuple(expected[key].shape):
            raise ModelLoadError(
                f"weights {path} do not fit the model: {key!r} has shape {list(value.shape)} in "
                f"the file but {list(expected[key].shape)} in the model",
                hint="check that the weights were saved from this model class with the same "
                "configuration (sizes, number of classes)",
            )
