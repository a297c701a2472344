"""Outputs at padded positions: a difference only there is excused (a warning that counts the
elements); a difference at a token position, or in an output whose dims do not follow the mask,
fails as before. Both polarities: attention_mask (1 = token), key_padding_mask (True = pad)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

import onnxproof
from onnxproof.verification.padded_positions import PaddingMask, excuse_padded


def _exporting() -> bool:
    return torch.onnx.is_in_onnx_export() or torch.compiler.is_exporting()


class PaddedShift(nn.Module):
    """The export shifts the output by 5 at the positions ``where`` picks: padding (as a
    runtime may resolve a fully masked softmax), tokens (a real divergence), or padding with the
    output laid out [seq, batch, ...] (dims that do not follow the mask)."""

    def __init__(self, where: str = "padding") -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(4, 3)
        self.where = where

    def forward(
        self,
        x: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        key_padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        y = self.fc(x)
        if key_padding_mask is not None:
            padded = key_padding_mask
        else:
            assert attention_mask is not None
            padded = attention_mask == 0
        if _exporting():
            shifted = ~padded if self.where == "tokens" else padded
            y = y + 5.0 * shifted.unsqueeze(-1).to(y.dtype)
        return y.transpose(0, 1) if self.where == "padding-seq-first" else y


def _run(model: nn.Module, mask_spec: str, tmp_path: Path) -> onnxproof.RunReport:
    return onnxproof.run(
        model, inputs=["x:float32[batch,seq=6,4]", mask_spec], output=tmp_path / "m.onnx"
    )


def _padded_findings(report: onnxproof.RunReport) -> list[str]:
    return [
        f.message
        for f in report.findings
        if f.code == "masked-row-mismatch" and "marks as padding" in f.message
    ]


def test_difference_only_at_padded_positions_is_a_warning(tmp_path: Path) -> None:
    report = _run(PaddedShift(), "attention_mask:int64[batch,seq]", tmp_path)
    assert report.status == "pass", report.findings
    (message,) = _padded_findings(report)
    assert "'output'" in message and "'attention_mask'" in message and "excused" in message
    assert report.verification is not None and report.verification.passed
    excused = [m for c in report.verification.cases for m in c.padded_mismatches]
    assert excused and all(m.mask == "attention_mask" for m in excused)
    assert all(m.elements > 0 and abs(m.max_abs_diff - 5.0) < 1e-4 for m in excused)
    # the figures judge the token positions: the excused 5.0 is not the worst difference
    (output,) = report.verification.outputs
    assert output.passed and output.max_abs_diff < 1e-4
    assert not any(f.code == "output-mismatch" for f in report.findings)


def test_key_padding_mask_true_is_padding(tmp_path: Path) -> None:
    report = _run(PaddedShift(), "key_padding_mask:bool[batch,seq]", tmp_path)
    assert report.status == "pass", report.findings
    assert _padded_findings(report)
    # no case is skipped: with True = padding no generated row is all padding (seq=1 included)
    assert report.verification is not None
    assert not any(c.skipped for c in report.verification.cases)


def test_difference_at_token_positions_still_fails(tmp_path: Path) -> None:
    for spec in ("attention_mask:int64", "key_padding_mask:bool"):
        report = _run(PaddedShift(where="tokens"), f"{spec}[batch,seq]", tmp_path)
        assert report.status == "fail", spec
        assert any(f.code == "output-mismatch" for f in report.findings)
        assert not _padded_findings(report)


def test_output_not_laid_out_like_the_mask_is_not_excused(tmp_path: Path) -> None:
    report = _run(
        PaddedShift(where="padding-seq-first"), "attention_mask:int64[batch,seq]", tmp_path
    )
    assert report.status == "fail"
    assert not _padded_findings(report)


def test_excuse_needs_every_difference_at_padding() -> None:
    padding = np.array([[False, False, True], [False, True, True]])
    padded = [PaddingMask(name="m", padded=padding, dim_names=("batch", "seq"))]
    ref = np.zeros((2, 3, 2), dtype=np.float32)
    got = ref.copy()
    got[0, 2] = 1.0
    got[1, 1:] = 2.0
    excused = excuse_padded("out", got, ref, padded, atol=1e-4, rtol=1e-3)
    assert excused is not None
    assert excused.mismatch.elements == 6 and excused.mismatch.max_abs_diff == 2.0
    assert (excused.actual == ref).all()  # the padded values no longer count
    got[1, 0, 0] = 1.0  # a token position differs too
    assert excuse_padded("out", got, ref, padded, atol=1e-4, rtol=1e-3) is None
    # an output whose leading dims are not the mask's [batch, seq]
    assert excuse_padded("out", ref[:, :2], ref[:, :2] + 1, padded, atol=1e-4, rtol=1e-3) is None
    # the sizes fit, but the file says the output is laid out [seq, batch, ...]
    got[1, 0, 0] = 0.0
    kept = excuse_padded("o", got, ref, padded, atol=1e-4, rtol=1e-3, dims=("batch", "seq", 2))
    assert kept is not None
    swapped = excuse_padded("o", got, ref, padded, atol=1e-4, rtol=1e-3, dims=("seq", "batch", 2))
    assert swapped is None
    # a pooled [batch, hidden] output whose static hidden size equals the mask's seq: the file
    # does not name the dim as the mask's, so nothing is excused
    pooled = excuse_padded("o", got, ref, padded, atol=1e-4, rtol=1e-3, dims=("batch", 3, 2))
    assert pooled is None
    # integer outputs (token ids at each position) compare exactly, padding excused alike
    ids = np.zeros((2, 3), dtype=np.int64)
    excused = excuse_padded("ids", ids + padding, ids, padded, atol=0.0, rtol=0.0)
    assert excused is not None and excused.mismatch.elements == 3


class Encoder(nn.Module):
    """nn.TransformerEncoder: on right-padded rows PyTorch's nested-tensor fast path returns
    zeros at the padded positions, the exported graph computes them. ``planted`` shifts the
    export at the token positions too."""

    def __init__(self, planted: bool = False) -> None:
        super().__init__()
        torch.manual_seed(0)
        layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=True)
        self.planted = planted

    def forward(self, x: torch.Tensor, src_key_padding_mask: torch.Tensor) -> torch.Tensor:
        y = self.encoder(x, src_key_padding_mask=src_key_padding_mask)
        if self.planted and _exporting():
            y = y + 0.5 * (~src_key_padding_mask).unsqueeze(-1).to(y.dtype)
        return y


ENCODER_SPECS = ["x:float32[batch,seq=6,16]", "src_key_padding_mask:bool[batch,seq]"]


def _right_padded(path: Path) -> Path:
    """Real right-padded rows, True marking padding, as PyTorch's users build them."""
    rng = np.random.default_rng(1)
    lengths = np.array([6, 1, 4, 3, 5, 2, 6, 4])
    mask = np.arange(6) >= lengths[:, None]
    x = rng.standard_normal((8, 6, 16)).astype(np.float32)
    np.savez(path, x=x, src_key_padding_mask=mask)
    return path


def test_transformer_encoder_key_padding_mask(tmp_path: Path) -> None:
    """True marks padding: the generated rows are right-padded (the fast path runs), no case is
    skipped, and the zeros PyTorch returns at padded positions are excused, on the generated
    cases and on the user's data alike."""
    report = onnxproof.run(
        Encoder(),
        inputs=ENCODER_SPECS,
        output=tmp_path / "e.onnx",
        data=_right_padded(tmp_path / "data.npz"),
    )
    assert report.status == "pass", report.findings
    inferred = [f.message for f in report.findings if f.code == "inferred-padding-mask"]
    assert inferred and "{pad}" in inferred[0] and "True marks padding" in inferred[0]
    assert report.verification is not None
    assert not any(c.skipped for c in report.verification.cases)
    messages = _padded_findings(report)
    assert len(messages) == 2  # the generated cases and the data, each says what was excused
    assert all("'src_key_padding_mask'" in m and "element(s) excused" in m for m in messages)
    assert report.data is not None and report.data.passed
    assert report.data.padded_mismatches


def test_transformer_encoder_divergence_at_tokens_fails(tmp_path: Path) -> None:
    report = onnxproof.run(
        Encoder(planted=True),
        inputs=ENCODER_SPECS,
        output=tmp_path / "e.onnx",
        data=_right_padded(tmp_path / "data.npz"),
    )
    assert report.status == "fail"
    assert report.data is not None and not report.data.passed
    assert report.verification is not None and not report.verification.passed
    assert not _padded_findings(report)


class CausalAttention(nn.Module):
    """Causal self-attention under a padding mask; ``ignore_mask`` builds the allowed set from
    ``attention_mask >= 0``, so the mask never masks anything."""

    def __init__(self, ignore_mask: bool = False) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.emb = nn.Embedding(50, 16)
        self.q, self.k, self.v = nn.Linear(16, 16), nn.Linear(16, 16), nn.Linear(16, 16)
        self.ignore_mask = ignore_mask

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        h = self.emb(input_ids)
        scores = self.q(h) @ self.k(h).transpose(1, 2) / 4.0
        size = scores.shape[-1]
        causal = torch.ones(size, size, dtype=torch.bool).tril()[None]
        seen = attention_mask[:, None, :] >= 0 if self.ignore_mask else attention_mask[:, None, :]
        allowed = causal & seen.bool()
        scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
        return torch.softmax(scores, -1) @ self.v(h)


def test_a_file_that_ignores_the_mask_of_a_causal_model_fails(tmp_path: Path) -> None:
    """With right padding alone no token of a causal model sees a padded position, so a file
    that drops the mask differed only at padding and was excused: left-padded rows expose it."""
    inputs = ["input_ids:int64[batch,seq=8]{0..49}", "attention_mask:int64[batch,seq]{mask}"]
    path = tmp_path / "wrong.onnx"
    onnxproof.export(CausalAttention(ignore_mask=True), inputs=inputs, output=path)
    report = onnxproof.verify(CausalAttention(), path, inputs=inputs)
    assert report.status == "fail"
    assert any(f.code == "output-mismatch" for f in report.findings)
    faithful = onnxproof.run(CausalAttention(), inputs=inputs, output=tmp_path / "ok.onnx")
    assert faithful.status == "pass", [f.message for f in faithful.findings]
