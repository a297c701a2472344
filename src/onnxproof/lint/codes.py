"""The catalogue of finding codes: what each means and how to fix it. Stable once published."""

from __future__ import annotations

from dataclasses import dataclass

from onnxproof.specs import Severity


@dataclass(frozen=True, kw_only=True)
class FindingCode:
    code: str
    severity: Severity
    summary: str
    fix: str


CODES: dict[str, FindingCode] = {
    c.code: c
    for c in (
        FindingCode(
            code="train-mode",
            severity=Severity.WARNING,
            summary="submodules were in training mode when export was asked; onnxproof exported in eval mode",
            fix="call model.eval() before exporting yourself; Dropout and BatchNorm behave differently in training",
        ),
        FindingCode(
            code="export-failed",
            severity=Severity.ERROR,
            summary="every exporter strategy failed; no ONNX file was written",
            fix="read each attempt's error; the message names the operator or the construct to change",
        ),
        FindingCode(
            code="export-fallback",
            severity=Severity.INFO,
            summary="the first exporter strategy failed and a later one wrote the file",
            fix="read why the first failed; the fallback (TorchScript tracing) captures one path of control flow",
        ),
        FindingCode(
            code="traced-control-flow",
            severity=Severity.ERROR,
            summary="tracing turned a tensor into a Python bool, so only the branch taken for the example input was captured",
            fix="replace the `if` on a tensor value with torch.where or torch.cond, or remove the data-dependent branch",
        ),
        FindingCode(
            code="traced-constant",
            severity=Severity.WARNING,
            summary="tracing turned a tensor into a Python number; the value of the example input may be baked in",
            fix="keep the computation in tensors (x.shape[0] rather than int(x.sum())) or check parity at several sizes",
        ),
        FindingCode(
            code="opset-changed",
            severity=Severity.WARNING,
            summary="the exporter wrote a different opset from the one asked for",
            fix="the dynamo exporter translates at opset 18 and down-converts; ask for >= 18 or use --exporter torchscript",
        ),
        FindingCode(
            code="output-mismatch",
            severity=Severity.ERROR,
            summary="an output of the ONNX model differs from PyTorch beyond the tolerance",
            fix="see the parity table; a higher opset, the other exporter, or a fix in the model code",
        ),
        FindingCode(
            code="runtime-failure",
            severity=Severity.ERROR,
            summary="the runtime could not run the ONNX file on some inputs PyTorch accepts",
            fix="see the failed case's message; often a dimension baked in at export",
        ),
        FindingCode(
            code="default-int-range",
            severity=Severity.INFO,
            summary="an integer input has no value range in its spec; generated values are 0..9",
            fix="add a range to the spec, for example ids:int64[batch,seq]{0..30521}",
        ),
    )
}


def code_info(code: str) -> FindingCode:
    return CODES[code]
