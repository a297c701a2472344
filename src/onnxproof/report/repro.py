"""A repro bundle: a folder anyone can run to see a parity failure, with numpy and onnxruntime.

It holds a copy of the ONNX file (and its external data), the failing inputs (``inputs.npz``,
the first ``MAX_CASES`` cases within ``MAX_BYTES``), PyTorch's outputs for them
(``expected.npz``), the tolerances, a ``cases.json`` manifest tying array keys to tensor names, a
README and ``reproduce.py``, which prints the max abs difference per output and exits 1 while
the file still differs, 0 once it agrees. When localization found the first divergent module,
the bundle also holds that module alone (``module.onnx``, cut out with
``onnx.utils.extract_model`` between the values entering the module and its output) with its
recorded inputs and PyTorch's output of that module.

The folder is written under a temporary name beside the target and renamed into place, so a
half-written bundle is never left. It is signed with ``onnxproof-bundle.json``, which lists every
file the writer put there: an existing folder is replaced only when that signature is there and
it holds no file the list does not name, so a folder of the user's own files is never deleted.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from onnxproof.errors import UsageError
from onnxproof.report._reproduce_script import SCRIPT

if TYPE_CHECKING:
    import onnx

    from onnxproof.results import Localization

log = logging.getLogger(__name__)

#: Failing cases kept at most, and their total size (inputs and outputs) at most; the first case
#: is kept whatever its size.
MAX_CASES = 3
MAX_BYTES = 64 * 2**20

#: One case: a label, the feeds by ONNX input name, PyTorch's outputs by ONNX output name.
ReproCase = tuple[str, Mapping[str, np.ndarray], Mapping[str, np.ndarray]]

#: The bundle's signature: a file only this writer makes, naming what it wrote.
SIGNATURE_FILE = "onnxproof-bundle.json"
_SIGNATURE = "onnxproof repro bundle"


@dataclass(frozen=True, kw_only=True)
class ModuleCase:
    """The first divergent module on the localized case: the ONNX values entering it, PyTorch's
    output of it (keyed by the name of its ONNX counterpart) and the tolerance it was held to."""

    module: str
    module_type: str
    inputs: Mapping[str, np.ndarray]
    expected: Mapping[str, np.ndarray]
    atol: float
    rtol: float


def module_inputs(model: onnx.ModelProto, module: str) -> tuple[str, ...]:
    """The values the module's nodes read from outside the module (weights excluded), in the
    order they are first read."""
    from onnxproof.verification.localize import module_runs

    runs = module_runs(model).get(module)
    if not runs:
        return ()
    members = set(runs[0].nodes)  # the module's first call: the one localization compared
    nodes = [n for n in model.graph.node if n.name in members]
    produced = {out for n in nodes for out in n.output}
    weights = {i.name for i in model.graph.initializer}
    names: list[str] = []
    for node in nodes:
        for name in node.input:
            if name and name not in produced and name not in weights and name not in names:
                names.append(name)
    return tuple(names)


def record_module(
    model: onnx.ModelProto,
    localization: Localization,
    feeds: Mapping[str, np.ndarray],
    module_output: np.ndarray,
    run_onnx: Callable[[str], Mapping[str, np.ndarray]],
    *,
    atol: float,
    rtol: float,
) -> ModuleCase | None:
    """The first divergent module's values on ``feeds``: one ``run_onnx(path)`` of a copy of
    ``model`` (weights loaded) that also outputs the values entering the module. None when no
    module diverged or it has no ONNX counterpart."""

    from onnxproof.verification.localize import run_with_outputs

    module = localization.first_divergent_module
    entry = next((m for m in localization.trail if m.module == module), None)
    if module is None or entry is None or entry.onnx_value is None:
        return None
    names = module_inputs(model, module)
    graph_inputs = {i.name for i in model.graph.input}
    wanted = [n for n in names if n not in graph_inputs]
    values: Mapping[str, np.ndarray] = {}
    if wanted:
        values = run_with_outputs(model, wanted, run_onnx)
    recorded = {n: np.asarray(feeds[n] if n in graph_inputs else values[n]) for n in names}
    return ModuleCase(
        module=module,
        module_type=entry.module_type,
        inputs=recorded,
        expected={entry.onnx_value: np.asarray(module_output)},
        atol=atol,
        rtol=rtol,
    )


def write_repro_bundle(
    folder: str | Path,
    *,
    onnx_path: str | Path,
    cases: Sequence[ReproCase],
    tolerances: Mapping[str, tuple[float, float]],
    localization: Localization | None = None,
    subgraph: ModuleCase | None = None,
) -> Path:
    """Write the bundle to ``folder`` (replacing an earlier bundle there) and return its path.

    ``cases`` are the failing cases, first failing first; ``tolerances`` gives (atol, rtol) for
    every output in them. ``subgraph`` (from ``record_module``) adds the divergent module alone.
    """
    target = Path(folder)
    if not cases:
        raise ValueError("a repro bundle needs at least one case")
    kept = _kept(cases)
    missing = sorted({n for _, _, outs in kept for n in outs} - set(tolerances))
    if missing:
        raise ValueError(f"no tolerance given for output(s) {missing}")
    check_repro_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        manifest = _write_contents(staging, Path(onnx_path), kept, tolerances)
        if localization is not None and subgraph is not None:
            manifest["module"] = _write_module(staging, subgraph)
        (staging / "cases.json").write_text(json.dumps(manifest, indent=2) + "\n")
        (staging / "README.txt").write_text(_readme(manifest, len(cases), localization))
        (staging / "reproduce.py").write_text(SCRIPT)
        _sign(staging)
        os.chmod(staging, 0o755)
        _move_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _kept(cases: Sequence[ReproCase]) -> list[ReproCase]:
    kept: list[ReproCase] = []
    total = 0
    for case in cases[:MAX_CASES]:
        _, feeds, outputs = case
        size = sum(np.asarray(a).nbytes for a in (*feeds.values(), *outputs.values()))
        if kept and total + size > MAX_BYTES:
            break
        kept.append(case)
        total += size
    return kept


def check_repro_target(target: str | Path) -> None:
    """Raise UsageError unless ``target`` is new, an empty folder or an earlier bundle holding
    only the files its signature lists: a folder with any other file is never replaced (call
    it before the run to fail fast)."""
    target = Path(target)
    if not os.path.lexists(target):
        return
    if not target.is_dir():
        raise UsageError(
            f"{target} exists and is not a folder; not overwriting it",
            hint="give --repro a new or empty folder",
        )
    if not any(target.iterdir()):
        return
    listed = _signed_files(target)  # before walking the folder: a big one without it is refused
    if listed is None:
        raise UsageError(
            f"{target} exists and is not a repro bundle (no {SIGNATURE_FILE} written by "
            "onnxproof); not overwriting it",
            hint="give --repro a new or empty folder",
        )
    foreign = sorted(_files_in(target) - listed - {SIGNATURE_FILE})
    if foreign:
        raise UsageError(
            f"{target} is a repro bundle but also holds {foreign[0]!r}"
            + (f" and {len(foreign) - 1} other file(s)" if len(foreign) > 1 else "")
            + ", which onnxproof did not write; not overwriting it",
            hint="move your files out of the bundle, or give --repro a new or empty folder",
        )


def _sign(folder: Path) -> None:
    files = sorted(_files_in(folder))
    text = json.dumps({"signature": _SIGNATURE, "version": 1, "files": files}, indent=2)
    (folder / SIGNATURE_FILE).write_text(text + "\n")


def _signed_files(folder: Path) -> set[str] | None:
    """The files the signature lists, or None when there is no valid signature."""
    try:
        signed = json.loads((folder / SIGNATURE_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(signed, dict) or signed.get("signature") != _SIGNATURE:
        return None
    files = signed.get("files")
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return set(files)


def _files_in(folder: Path) -> set[str]:
    """Everything under ``folder`` that is not a folder (links included, never followed), as
    POSIX paths relative to it."""
    found: set[str] = set()
    for root, dirs, files in os.walk(folder):
        base = Path(root)
        # a link to a folder is an entry of the bundle, not a folder to look into
        found.update(
            (base / d).relative_to(folder).as_posix() for d in dirs if (base / d).is_symlink()
        )
        found.update((base / f).relative_to(folder).as_posix() for f in files)
    return found


def _move_into_place(staging: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        os.replace(target, old / "bundle")
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_contents(
    staging: Path,
    onnx_path: Path,
    kept: list[ReproCase],
    tolerances: Mapping[str, tuple[float, float]],
) -> dict[str, object]:
    model_name = "model.onnx"
    shutil.copyfile(onnx_path, staging / model_name)
    for location in _external_data(onnx_path):
        destination = staging / location
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(onnx_path.parent / location, destination)
    inputs: dict[str, np.ndarray] = {}
    expected: dict[str, np.ndarray] = {}
    entries = []
    for i, (label, feeds, outputs) in enumerate(kept):
        entry_in, entry_out = {}, {}
        for j, (name, value) in enumerate(feeds.items()):
            entry_in[name] = key = f"case{i}_input{j}"
            inputs[key] = np.asarray(value)
        for j, (name, value) in enumerate(outputs.items()):
            entry_out[name] = key = f"case{i}_output{j}"
            expected[key] = np.asarray(value)
        entries.append({"label": label, "inputs": entry_in, "outputs": entry_out})
    np.savez_compressed(staging / "inputs.npz", **inputs)  # type: ignore[arg-type]
    np.savez_compressed(staging / "expected.npz", **expected)  # type: ignore[arg-type]
    names = list(dict.fromkeys(n for _, _, outs in kept for n in outs))
    tol = {n: {"atol": tolerances[n][0], "rtol": tolerances[n][1]} for n in names}
    (staging / "tolerances.json").write_text(json.dumps(tol, indent=2) + "\n")
    return {"model": model_name, "source": str(onnx_path), "cases": entries}


def _external_data(onnx_path: Path) -> list[str]:
    """Relative locations of the file's external data (only files inside the model's folder,
    as the runtimes read them)."""
    import onnx

    from onnxproof.checking import external_data_path, model_info

    info = model_info(onnx.load(str(onnx_path), load_external_data=False))
    return [
        location
        for location in info.external_data_files
        if external_data_path(onnx_path.parent, location) is not None
    ]


def _write_module(staging: Path, case: ModuleCase) -> dict[str, object]:
    """The module cut out of the copied model, with its inputs and PyTorch's output; on failure
    the manifest says why and the rest of the bundle stands."""
    from onnx.utils import extract_model

    entry: dict[str, object] = {"name": case.module, "type": case.module_type}
    try:
        extract_model(
            str(staging / "model.onnx"),
            str(staging / "module.onnx"),
            list(case.inputs),
            list(case.expected),
            check_model=False,
        )
    except Exception as exc:  # an odd graph (outer-scope values, control flow): no sub-graph
        log.info("could not extract module %s: %s", case.module, exc)
        (staging / "module.onnx").unlink(missing_ok=True)
        return {**entry, "error": f"could not extract the module's sub-graph: {exc}"}
    ins = {name: f"input{j}" for j, name in enumerate(case.inputs)}
    outs = {name: f"output{j}" for j, name in enumerate(case.expected)}
    np.savez_compressed(
        staging / "module_inputs.npz",
        **{ins[n]: np.asarray(v) for n, v in case.inputs.items()},  # type: ignore[arg-type]
    )
    np.savez_compressed(
        staging / "module_expected.npz",
        **{outs[n]: np.asarray(v) for n, v in case.expected.items()},  # type: ignore[arg-type]
    )
    return {
        **entry,
        "model": "module.onnx",
        "inputs_file": "module_inputs.npz",
        "expected_file": "module_expected.npz",
        "inputs": ins,
        "outputs": outs,
        "atol": case.atol,
        "rtol": case.rtol,
    }


def _readme(manifest: dict[str, object], offered: int, localization: Localization | None) -> str:
    cases = manifest["cases"]
    assert isinstance(cases, list)
    labels = "\n".join(f"  - {c['label']}" for c in cases)
    lines = [
        "onnxproof repro bundle",
        "======================",
        "",
        f"The ONNX file {manifest['source']} gives outputs that differ from PyTorch's beyond the",
        "tolerance on the inputs saved here. Run:",
        "",
        "    python -m pip install numpy onnxruntime",
        "    python reproduce.py",
        "",
        "It prints the max abs difference per output (as the onnxproof report does, over these",
        "cases) and exits 1 while an output differs, 0 once every output agrees.",
        "",
        "What is here:",
        "  model.onnx         a copy of the ONNX file (external data files beside it, if any)",
        f"  inputs.npz         the inputs of {len(cases)} failing case(s) (of {offered} offered):",
        labels,
        "  expected.npz       PyTorch's outputs for those inputs",
        "  tolerances.json    atol and rtol per output: |onnx - torch| <= atol + rtol * |torch|",
        "  cases.json         which array in the .npz files is which input or output, per case",
        "  reproduce.py       the check, with numpy and onnxruntime only",
        f"  {SIGNATURE_FILE}  the files onnxproof wrote here: a later run replaces the",
        "                     folder only while it holds no other file",
    ]
    module = manifest.get("module")
    if isinstance(module, dict):
        if "model" in module:
            lines += [
                f"  module.onnx        module {module['name']} ({module['type']}) alone: the first",
                "                     module whose output diverges from PyTorch",
                "  module_inputs.npz  the values entering that module on the first case",
                "  module_expected.npz PyTorch's output of that module on the same case",
            ]
        else:
            lines.append(f"  (module {module['name']}: {module.get('error')})")
    elif localization is not None and localization.first_divergent_module:
        lines.append(f"  (first divergent module: {localization.first_divergent_module})")
    return "\n".join(lines) + "\n"
