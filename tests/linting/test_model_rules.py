"""Rules that need the model run: nondeterminism, baked dims found by parity, float64, tracing."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import onnxproof
from onnxproof.exporting import export_model
from onnxproof.linting.export_rules import export_findings
from onnxproof.specs import parse_input_specs
from tests import models


def _codes(report: onnxproof.RunReport) -> dict[str, str]:
    return {f.code: f.severity.value for f in report.findings}


def test_noise_is_stochastic_and_nondeterministic(tmp_path: Path) -> None:
    report = onnxproof.run(
        models.NoisyOutput(), inputs=["x:float32[batch,10]"], output=tmp_path / "n.onnx"
    )
    codes = _codes(report)
    assert codes.get("stochastic-op") == "error" and codes.get("nondeterministic") == "error"
    assert report.status == "fail"
    messages = [f.message for f in report.findings if f.code == "nondeterministic"]
    assert any("ort-cpu" in m for m in messages) and any("PyTorch" in m for m in messages)


def test_clean_model_is_deterministic(tmp_path: Path) -> None:
    report = onnxproof.run(
        models.SimpleNet(), inputs=["x:float32[batch,10]"], output=tmp_path / "s.onnx"
    )
    assert not {"nondeterministic", "stochastic-op", "baked-dimension"} & set(_codes(report))


def test_len_bakes_the_batch_under_tracing(tmp_path: Path) -> None:
    report = onnxproof.run(
        models.LenBakesBatch(),
        inputs=["x:float32[batch,10]"],
        output=tmp_path / "l.onnx",
        exporter="torchscript",
    )
    assert report.status == "fail"
    baked = [f for f in report.findings if f.code == "baked-dimension"]
    assert baked and "'batch' behaves as fixed to 2" in baked[0].message
    # torch 2.13's dynamo exporter silently specializes the named dim here: the file's input is
    # static. Caught from the graph (declared dynamic, fixed in the file) and by parity.
    dynamo = onnxproof.run(
        models.LenBakesBatch(), inputs=["x:float32[batch,10]"], output=tmp_path / "d.onnx"
    )
    assert dynamo.exporter == "dynamo" and dynamo.status == "fail"
    messages = [f.message for f in dynamo.findings if f.code == "baked-dimension"]
    assert any("declared dynamic but the file fixes it to 2" in m for m in messages)


def test_float64_model(tmp_path: Path) -> None:
    report = onnxproof.run(
        models.Double(), inputs=["x:float32[batch,10]"], output=tmp_path / "f.onnx"
    )
    assert _codes(report).get("float64") == "warning"
    assert report.status == "pass"  # a warning alone does not fail
    strict = onnxproof.run(
        models.Double(),
        inputs=["x:float32[batch,10]"],
        output=tmp_path / "g.onnx",
        fail_on="warning",
    )
    assert strict.status == "fail"


def test_dynamo_refusal_names_the_line(tmp_path: Path) -> None:
    report = onnxproof.run(
        models.DataDependentBranch(), inputs=["x:float32[batch,10]"], output=tmp_path / "b.onnx"
    )
    traced = [f for f in report.findings if f.code == "traced-control-flow"]
    assert traced and all(f.location and f.location.startswith(models.__file__) for f in traced)
    assert len({f.location for f in traced}) == len(traced)  # one finding per line


def test_node_findings_name_the_pytorch_module(tmp_path: Path) -> None:
    report = onnxproof.run(
        models.NoisyOutput(), inputs=["x:float32[batch,10]"], output=tmp_path / "n.onnx"
    )
    stochastic = [f for f in report.findings if f.code == "stochastic-op"]
    assert stochastic and stochastic[0].node
    # the noise is drawn in the root module's forward: no submodule path, and none is made up
    assert stochastic[0].module is None
    nested = onnxproof.run(
        models.NoisyChild(), inputs=["x:float32[batch,10]"], output=tmp_path / "c.onnx"
    )
    (hit,) = [f for f in nested.findings if f.code == "stochastic-op"]
    assert hit.module == "noise" and hit.node


def _case(index: int, sizes: dict[str, int], draw: str, passed: bool):  # type: ignore[no-untyped-def]
    from onnxproof.results import CaseResult

    return CaseResult(
        index=index, sizes=sizes, draw=draw, passed=passed, failed_outputs=() if passed else ("y",)
    )


def _parity(cases):  # type: ignore[no-untyped-def]
    from onnxproof.results import ParityReport

    return ParityReport(
        runtime="onnxruntime", reference="torch", passed=False, atol=1e-4, rtol=1e-3,
        cases=tuple(cases), outputs=(),
    )  # fmt: skip


def test_baked_dimension_needs_every_draw_to_fail_at_the_size() -> None:
    from onnxproof.linting.parity_rules import baked_by_parity

    draws = ("normal", "positive", "negative", "wide")
    example = [_case(i, {"seq": 16}, d, True) for i, d in enumerate(draws)]
    # One draw failing at seq=1 points at the values (a degenerate input), not at the size.
    one_draw = [_case(4, {"seq": 1}, "normal", False)] + [
        _case(5 + i, {"seq": 1}, d, True) for i, d in enumerate(draws[1:])
    ]
    assert list(baked_by_parity(_parity(example + one_draw), None)) == []
    every_draw = [_case(4 + i, {"seq": 1}, d, False) for i, d in enumerate(draws)]
    found = list(baked_by_parity(_parity(example + every_draw), None))
    assert [f.code for f in found] == ["baked-dimension"] and "seq=1" in found[0].message
    # A dim the graph already shows fixed is not reported a second time.
    assert list(baked_by_parity(_parity(example + every_draw), None, known={"seq"})) == []


class _LenOfInput(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.zeros(len(x), 10)


class _IteratesInput(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([row * 2 for row in x])


class _FloatOfMax(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / float(x.abs().max())


@pytest.mark.parametrize("cls", [_LenOfInput, _IteratesInput, _FloatOfMax])
def test_tracing_a_value_into_a_constant_is_found(tmp_path: Path, cls: type) -> None:
    result = export_model(
        cls(),
        parse_input_specs(["x:float32[batch,10]"]),
        tmp_path / "c.onnx",
        args=(torch.randn(3, 10),),
        exporter="torchscript",
    )
    findings = export_findings(result)
    constant = [f for f in findings if f.code == "traced-constant"]
    assert constant and constant[0].severity.value == "warning"
    assert constant[0].location and constant[0].location.startswith(__file__)
    assert "traced-control-flow" not in {f.code for f in findings}


def test_baked_dimension_is_pinned_only_on_a_dim_that_changed_alone() -> None:
    from onnxproof.linting.parity_rules import baked_by_parity

    example = {"batch": 2, "seq": 12}
    cases = [_case(0, example, "normal", True)]
    # Both dims changed together and failed: nothing singles one of them out.
    cases.append(_case(1, {"batch": 1, "seq": 1}, "normal", False))
    assert list(baked_by_parity(_parity(cases), None)) == []
    # seq alone changed and failed, batch alone changed and passed: seq is the one.
    cases.append(_case(2, {"batch": 2, "seq": 7}, "normal", False))
    cases.append(_case(3, {"batch": 7, "seq": 12}, "normal", True))
    found = list(baked_by_parity(_parity(cases), None))
    assert [f.message.split(":")[0] for f in found] == ["dim 'seq' behaves as fixed to 12"]


class _ShapeGuard(torch.nn.Module):
    """A guard on the batch size, as transformers' own code has: every size tried takes the
    same branch."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] > 100:  # never at the sizes tried
            return x * 2
        return x + 1


class _ValueBranch(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return x * 2
        return x + 1


def test_a_traced_branch_on_a_shape_is_a_warning_and_on_values_an_error(tmp_path: Path) -> None:
    shape = onnxproof.run(
        _ShapeGuard(), inputs=["x:float32[batch,4]"], output=tmp_path / "s.onnx",
        exporter="torchscript",
    )  # fmt: skip
    found = {f.code: f for f in shape.findings}
    assert "traced-control-flow" not in found
    guard = found["traced-shape-branch"]
    assert guard.severity.value == "warning" and "x.shape[0] > 100" in guard.message
    assert guard.location and guard.location.startswith(__file__)
    assert shape.status == "pass"  # parity held at every size: the guard did not matter
    value = onnxproof.run(
        _ValueBranch(), inputs=["x:float32[batch,4]"], output=tmp_path / "v.onnx",
        exporter="torchscript",
    )  # fmt: skip
    codes = {f.code: f.severity.value for f in value.findings}
    assert codes.get("traced-control-flow") == "error" and "traced-shape-branch" not in codes
    assert value.status == "fail"


@pytest.mark.parametrize(
    ("source", "shape_only"),
    [
        ("if x.shape[0] > 1:", True),
        ("if x.size(1) != y.size(1):", True),
        ("elif len(x) == 3:  # x.sum() in a comment is not read", True),
        ("assert x.dim() == 4", True),
        ("if x.sum() > 0:", False),
        ("if x.shape[0] > x.max():", False),
        ("if (x > 0).any():", False),
        ("if torch.all(mask):", False),
        ("y = x * 2", False),
        ("if x.shape[0] > threshold:  # threshold may be a tensor", False),
        ("if seq_len > self.config.max_position_embeddings:", False),  # no shape read here
        ("if x.size(1) > self.max_len or len(x) == MAX_BATCH:", True),
        ("y = a if x.dim() == 3 else b", True),
        ("while x.shape[-1] < 8:", True),
        ("if self.count.item() > x.shape[0]:", False),  # a value read on a module attribute
        ("if x.size(0) > 1 and self.mask.any():", False),
        ("if x.shape[0] > self.limits[0]:", False),
    ],
)
def test_shape_only_conditions_are_told_apart_by_their_line(source: str, shape_only: bool) -> None:
    from onnxproof.linting.export_rules import _shape_only

    assert _shape_only(source) is shape_only


class _ValueGuard(torch.nn.Module):
    """A check that raises on a tensor value, as torch's own pad_packed_sequence has: tracing keeps
    the path that does not raise, which is the computation."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.isnan(x).any():
            raise ValueError("x holds NaN")
        return x * 2


class _GuardWithElse(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 1e9:
            raise ValueError("too large")
        else:
            x = x + 1
        return x * 2


def test_a_traced_check_that_raises_is_a_guard_warning_not_control_flow(tmp_path: Path) -> None:
    report = onnxproof.run(
        _ValueGuard(), inputs=["x:float32[batch,4]"], output=tmp_path / "g.onnx",
        exporter="torchscript",
    )  # fmt: skip
    found = {f.code: f for f in report.findings}
    assert "traced-control-flow" not in found
    guard = found["traced-guard"]
    assert guard.severity.value == "warning" and "torch.isnan(x).any()" in guard.message
    assert report.status == "pass"
    # An if with an else chooses between computations: still control flow.
    other = onnxproof.run(
        _GuardWithElse(), inputs=["x:float32[batch,4]"], output=tmp_path / "e.onnx",
        exporter="torchscript",
    )  # fmt: skip
    codes = _codes(other)
    assert codes.get("traced-control-flow") == "error" and "traced-guard" not in codes
