"""Output structures flatten to stable, unique names in the exporters' order."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from pathlib import Path

import torch

import onnxproof
from onnxproof.runtimes.torch_eager import flatten_outputs
from tests import models


def test_names_of_every_structure() -> None:
    t = torch.zeros(1)

    @dataclasses.dataclass
    class Out:
        logits: torch.Tensor
        extra: torch.Tensor | None = None

    assert [n for n, _ in flatten_outputs(t)] == ["output"]
    assert [n for n, _ in flatten_outputs((t, t))] == ["output_0", "output_1"]
    assert [n for n, _ in flatten_outputs({"logits": t, "aux": [t, None, t]})] == [
        "logits",
        "aux.0",
        "aux.2",
    ]
    assert [n for n, _ in flatten_outputs(Out(logits=t))] == ["logits"]
    assert [n for n, _ in flatten_outputs(models.Pair(logits=t, hidden=t))] == [
        "logits",
        "hidden",
    ]
    # transformers' ModelOutput is an OrderedDict holding only the fields that are set.
    assert [n for n, _ in flatten_outputs(OrderedDict(last_hidden_state=t))] == [
        "last_hidden_state"
    ]
    assert [n for n, _ in flatten_outputs({"a": {"b": t}, "a.b": t})] == ["a.b", "a.b_1"]


def test_nested_and_colliding_outputs_verify(tmp_path: Path) -> None:
    report = onnxproof.run(
        models.NestedOutputs(), inputs=["x:float32[batch,10]"], output=tmp_path / "n.onnx"
    )
    assert report.status == "pass"
    assert [o.name for o in report.outputs] == ["a.b", "a.b_1", "pair.0", "pair.1"]


def test_namedtuple_outputs_verify(tmp_path: Path) -> None:
    report = onnxproof.run(
        models.NamedTupleOutputs(), inputs=["x:float32[batch,10]"], output=tmp_path / "t.onnx"
    )
    assert report.status == "pass" and [o.name for o in report.outputs] == ["logits", "hidden"]
