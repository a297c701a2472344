"""The pieces of optimize on their own: SQNR, the calibration/evaluation split, the gate, the
fp16 block list."""

from __future__ import annotations

import math

import numpy as np
import onnx
import pytest

from onnxproof.errors import DataError, UsageError
from onnxproof.optimizing import parse_gate, split
from onnxproof.optimizing._drift import sqnr_db
from onnxproof.optimizing._fp16 import decomposed_normalization_nodes
from onnxproof.optimizing._gate import check_gate


def test_sqnr_is_in_decibels_and_an_overflow_is_minus_infinity():
    ref = np.ones(1000, np.float32)
    assert sqnr_db(ref, ref) == math.inf
    assert sqnr_db(ref, ref + 0.1) == pytest.approx(20.0)
    assert sqnr_db(ref, ref + 0.01) == pytest.approx(40.0)
    assert sqnr_db(ref, np.where(np.arange(1000) == 3, np.inf, ref)) == -math.inf
    assert sqnr_db(ref, np.full(1000, np.nan, np.float32)) == -math.inf


def test_calibration_and_evaluation_never_share_a_sample():
    rows = np.arange(30, dtype=np.float32)[:, None]
    batches = [{"x": rows[i : i + 10]} for i in range(0, 30, 10)]
    samples = split(batches, "d.npz", batch_size=4)
    calibration = np.concatenate([b["x"] for b in samples.calibration])
    evaluation = np.concatenate([b["x"] for b in samples.evaluation])
    assert calibration.ravel().tolist() == list(range(15))  # cut inside the second batch
    assert evaluation.ravel().tolist() == list(range(15, 30))
    assert max(len(b["x"]) for b in samples.evaluation) <= 4
    assert "samples 0..14 calibrate, 15..29 evaluate" in samples.description
    with pytest.raises(DataError, match="too few to split"):
        split([{"x": rows[:1]}], "one.npz", batch_size=4)


def test_the_gate_refuses_what_it_cannot_judge():
    assert parse_gate(("top1=0.95", "rel_l2=0.2")) == {"top1": 0.95, "rel_l2": 0.2}
    check_gate({"top1": 0.95}, "classification")
    with pytest.raises(UsageError, match="needs --task classification"):
        check_gate({"top1": 0.95}, None)
    with pytest.raises(UsageError, match="outside"):
        check_gate({"cosine": 2.0}, None)
    with pytest.raises(UsageError, match="not NAME=VALUE"):
        parse_gate(("cosine:0.9",))


def test_a_hand_written_layernorm_is_found_from_the_square_to_the_sqrt(large_norm):
    model = onnx.load(str(large_norm.path))
    ops = {n.name: n.op_type for n in model.graph.node}
    blocked = decomposed_normalization_nodes(model)
    kinds = [ops[name] for name in blocked]
    assert "Mul" in kinds and "Sqrt" in kinds and "ReduceMean" in kinds
    assert "Gemm" not in kinds  # the layers before and after stay float16
