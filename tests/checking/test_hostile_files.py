"""Files built to break the tool: check and lint treat every file as data.

A malformed graph is a checker failure (exit 1), never an internal error; a file that is not an
ONNX model at all is bad input (exit 2); external data is read from the model's folder only.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper, numpy_helper

from onnxproof.checking import model_info
from onnxproof.cli import app
from onnxproof.errors import UsageError
from onnxproof.linting import target_names
from onnxproof.pipeline._lint import checked as check_model
from onnxproof.results import CheckReport

X = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])
Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])
RELU = helper.make_node("Relu", ["x"], ["y"], name="relu")


def _model(
    nodes: list[onnx.NodeProto],
    initializers: list[onnx.TensorProto] | None = None,
    inputs: list[onnx.ValueInfoProto] | None = None,
) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "g", inputs if inputs is not None else [X], [Y], initializer=initializers or []
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def _tensor(name: str, data_type: int, dims: list[int], raw: bytes) -> onnx.TensorProto:
    tensor = onnx.TensorProto(name=name, data_type=data_type, dims=dims)
    tensor.raw_data = raw
    return tensor


def _external(name: str, location: str, data_type: int = TensorProto.BOOL) -> onnx.TensorProto:
    """A scalar whose value lives in ``location`` (written by hand: onnx would write the file)."""
    tensor = onnx.TensorProto(name=name, data_type=data_type, dims=[])
    tensor.data_location = TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", location
    return tensor


def _dropout(flag: str = "train") -> onnx.NodeProto:
    return helper.make_node("Dropout", ["x", "", flag], ["y"], name="drop")


def _vector_flag_constant() -> onnx.ModelProto:
    flag = numpy_helper.from_array(np.array([True, False]))
    return _model([helper.make_node("Constant", [], ["train"], value=flag), _dropout()])


def _vector_flag_initializer() -> onnx.ModelProto:
    return _model([_dropout()], [numpy_helper.from_array(np.array([True, False]), "train")])


def _constant_without_output() -> onnx.ModelProto:
    value = numpy_helper.from_array(np.ones(1, np.float32))
    return _model([helper.make_node("Constant", [], [], value=value), RELU])


def _unknown_input_type() -> onnx.ModelProto:
    return _model([RELU], inputs=[helper.make_tensor_value_info("x", 99, [2, 4])])


def _unknown_initializer_type() -> onnx.ModelProto:
    return _model([RELU], [_tensor("w", 99, [2], b"\0" * 8)])


def _overlong_location() -> onnx.ModelProto:
    return _model([RELU], [_external("w", "a" * 300, TensorProto.FLOAT)])


def _empty_op_type() -> onnx.ModelProto:
    return _model([helper.make_node("", ["x"], ["y"], name="nameless")])


def _raw_data_not_matching_dims() -> onnx.ModelProto:
    add = helper.make_node("Add", ["x", "w"], ["y"], name="add")
    return _model([add], [_tensor("w", TensorProto.FLOAT, [3, 3], b"\0" * 5)])


def _flag_without_data() -> onnx.ModelProto:
    return _model([_dropout()], [_tensor("train", TensorProto.BOOL, [], b"")])


def _reshape_shape_without_data() -> onnx.ModelProto:
    reshape = helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape")
    return _model([reshape], [_tensor("shape", TensorProto.INT64, [2], b"\1")])


def _scope_metadata_not_a_list() -> onnx.ModelProto:
    model = _model([helper.make_node("RandomUniformLike", ["x"], ["y"], name="noise")])
    helper.set_metadata_props(model.graph.node[0], {"pkg.torch.onnx.name_scopes": "7"})
    return model


MALFORMED: dict[str, Callable[[], onnx.ModelProto]] = {
    "dropout flag is a vector Constant": _vector_flag_constant,
    "dropout flag is a vector initializer": _vector_flag_initializer,
    "Constant node without output": _constant_without_output,
    "element type 99 on an input": _unknown_input_type,
    "external data location of 300 characters": _overlong_location,
    "node with an empty op_type": _empty_op_type,
    "raw_data shorter than dims": _raw_data_not_matching_dims,
    "dropout flag with no data": _flag_without_data,
    "reshape shape with too little data": _reshape_shape_without_data,
}
#: Odd but valid as far as onnx.checker goes: no invalid-model, and still no crash.
ODD: dict[str, Callable[[], onnx.ModelProto]] = {
    "element type 99 on an unused initializer": _unknown_initializer_type,
    "name_scopes metadata that is not a list": _scope_metadata_not_a_list,
}


CASES = [(build, True) for build in MALFORMED.values()] + [(build, False) for build in ODD.values()]


@pytest.mark.parametrize("build, invalid", CASES, ids=[*MALFORMED, *ODD])
def test_malformed_graph_is_a_checker_failure_not_a_crash(
    build: Callable[[], onnx.ModelProto],
    invalid: bool,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "bad.onnx"
    onnx.save(build(), str(path))
    with caplog.at_level(logging.INFO, logger="onnxproof"):
        report = check_model(path, targets=target_names())
    # The rules guard their own assumptions: none needed the safety net to skip it.
    assert not [r for r in caplog.records if "skipped" in r.getMessage()]
    flagged = [f for f in report.findings if f.code == "invalid-model"]
    assert report.checker_passed is not invalid and len(flagged) == invalid
    if invalid:
        assert report.checker_error and report.checker_error in flagged[0].message
        assert flagged[0].severity.value == "error"


def test_lint_fails_on_a_file_the_checker_rejects(tmp_path: Path) -> None:
    path = tmp_path / "bad.onnx"
    onnx.save(_raw_data_not_matching_dims(), str(path))
    for command in ("lint", "check"):
        result = CliRunner().invoke(app, [command, str(path)])
        assert result.exit_code == 1, (command, result.output)
        assert "invalid-model" in result.output and "no findings" not in result.output


def _truncated(tmp_path: Path) -> bytes:
    path = tmp_path / "whole.onnx"
    onnx.save(_model([RELU]), str(path))
    data = path.read_bytes()
    return data[: len(data) // 2]


UNREADABLE: dict[str, tuple[Callable[[Path], bytes], str]] = {
    "zero bytes": (lambda _: b"", r"is not an ONNX model \(zero bytes\)"),
    "text": (
        lambda _: b"hello, this is text\n",
        "is not an ONNX model .*not a protobuf ModelProto",
    ),
    "truncated protobuf": (_truncated, "is not an ONNX model .*not a protobuf ModelProto"),
    # Field 1000 (unknown) only: protobuf parses it as a ModelProto with nothing set.
    "empty ModelProto": (lambda _: b"\xc0\x3e\x01", r"is not an ONNX model \(.*no graph"),
}


@pytest.mark.parametrize("content, message", UNREADABLE.values(), ids=list(UNREADABLE))
def test_a_file_that_is_not_a_model_is_bad_input(
    content: Callable[[Path], bytes], message: str, tmp_path: Path
) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(content(tmp_path))
    with pytest.raises(UsageError, match=message) as raised:
        check_model(path)
    assert raised.value.hint
    for command in ("check", "lint"):
        result = CliRunner().invoke(app, [command, str(path)])
        assert result.exit_code == 2, (command, result.output)
        assert "is not an ONNX model" in result.output and "no findings" not in result.output


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory apart from the model's folder, holding its own flag.bin (false)."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "flag.bin").write_bytes(b"\x00")
    monkeypatch.chdir(cwd)
    return cwd


def _save_external_flag(folder: Path, location: str, value: bytes | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if value is not None:
        (folder / "flag.bin").write_bytes(value)
    path = folder / "m.onnx"
    onnx.save(_model([_dropout()], [_external("train", location)]), str(path))
    return path


def _stochastic(report: CheckReport) -> list[str]:
    return [f.message for f in report.findings if f.code == "stochastic-op"]


def test_external_data_is_read_from_the_models_folder_not_the_cwd(
    tmp_path: Path, elsewhere: Path
) -> None:
    # The model's flag.bin says training (true); the cwd's says false. Read from the cwd, the
    # Dropout would look safe.
    path = _save_external_flag(tmp_path / "model", "flag.bin", b"\x01")
    assert _stochastic(check_model(path)) == ["drop: Dropout with training_mode set"]
    off = _save_external_flag(tmp_path / "off", "flag.bin", b"\x00")
    assert _stochastic(check_model(off)) == []


def test_external_data_missing_beside_the_model_is_not_taken_from_the_cwd(
    tmp_path: Path, elsewhere: Path
) -> None:
    path = _save_external_flag(tmp_path / "model", "flag.bin", None)
    (message,) = _stochastic(check_model(path))
    assert "cannot be read" in message


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink"])
def test_external_data_outside_the_models_folder_is_never_read(
    how: str, tmp_path: Path, elsewhere: Path
) -> None:
    outside = tmp_path / "secret.bin"
    outside.write_bytes(b"\x00")  # would clear the finding if it were read
    folder = tmp_path / "model"
    folder.mkdir()
    location = {"dotdot": "../secret.bin", "absolute": str(outside), "symlink": "link.bin"}[how]
    if how == "symlink":
        os.symlink(outside, folder / "link.bin")
    report = check_model(_save_external_flag(folder, location, None))
    (message,) = _stochastic(report)
    assert "cannot be read" in message


def test_file_size_counts_only_external_files_inside_the_models_folder(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (tmp_path / "outside.bin").write_bytes(b"\0" * 1000)
    (folder / "inside.bin").write_bytes(b"\0" * 40)
    os.symlink(tmp_path / "outside.bin", folder / "link.bin")
    tensors = [
        _external(name, location, TensorProto.FLOAT)
        for name, location in [
            ("a", "../outside.bin"),
            ("b", str(tmp_path / "outside.bin")),
            ("c", "link.bin"),
            ("d", "inside.bin"),
            ("e", "a" * 300),
        ]
    ]
    model = _model([RELU], tensors)
    path = folder / "m.onnx"
    onnx.save(model, str(path))
    info = model_info(model, path)
    assert info.file_size == path.stat().st_size + 40


def test_strings_that_are_not_utf8_are_read_as_text(tmp_path: Path) -> None:
    # protobuf hands back a proto2 string field holding bad UTF-8 as bytes; a report of bytes
    # breaks the rules, the JSON report and the terminal alike.
    noise = helper.make_node("RandomUniformLike", ["x"], ["y"], name="NOISE")
    model = _model([noise])
    helper.set_model_props(model, {"onnxproof.inputs": "SPECS", "author": "AUTHOR"})
    model.producer_name = "PRODUCER"
    data = model.SerializeToString()
    for marker in (b"NOISE", b"SPECS", b"AUTHOR", b"PRODUCER"):
        data = data.replace(marker, marker[:2] + b"\xff\xfe" + marker[4:])
    path = tmp_path / "m.onnx"
    path.write_bytes(data)
    report = check_model(path, targets=target_names())
    (noisy,) = [f for f in report.findings if f.code == "stochastic-op"]
    assert noisy.node == "NO\\xff\\xfeE" and report.info is not None
    assert report.info.metadata["author"] == "AU\\xff\\xfeOR"
    assert report.info.producer == "PR\\xff\\xfeUCER"
    json_path = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["check", str(path), "--json", str(json_path)])
    assert result.exit_code == 1, result.output
    nodes = [f["node"] for f in json.loads(json_path.read_text())["findings"]]
    assert "NO\\xff\\xfeE" in nodes


def _beyond(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.onnx"
    if kind == "truncated":
        weight = numpy_helper.from_array(np.ones((4, 4), dtype=np.float32), "w")
        model = _model([helper.make_node("MatMul", ["x", "w"], ["y"])], [weight])
        onnx.save(model, str(path), save_as_external_data=True, location="w.bin",
                  size_threshold=0)  # fmt: skip
        data = tmp_path / "w.bin"
        data.write_bytes(data.read_bytes()[:20])
    elif kind == "future":
        model = _model([RELU])
        model.opset_import[0].version = onnx.defs.onnx_opset_version() + 70
        onnx.save(model, str(path))
    else:
        graph = helper.make_graph([], "empty", [], [])
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))
    return path


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("truncated", "needs 64 bytes at offset 0 of 'w.bin', which holds 20"),
        ("future", "newer than any this onnx"),
        ("empty", "the graph has no outputs"),
    ],
)
def test_files_the_checker_lets_through_but_no_runtime_loads_fail(
    tmp_path: Path, kind: str, says: str
) -> None:
    """onnx.checker passes these; ONNX Runtime refuses each. check must not say PASS."""
    result = CliRunner().invoke(app, ["check", str(_beyond(tmp_path, kind))])
    assert result.exit_code == 1, result.output
    assert says in result.output and "✗ checker" in result.output
