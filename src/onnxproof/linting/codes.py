"""The catalogue of finding codes: severity, what each means, how to fix it. Stable once published.

``onnxproof explain CODE`` prints an entry; docs/findings.md is generated from this file.
"""

from __future__ import annotations

from dataclasses import dataclass

from onnxproof.specs import Severity


@dataclass(frozen=True, kw_only=True)
class FindingCode:
    code: str
    severity: Severity
    summary: str
    fix: str
    details: str = ""
    #: Where the severity differs by target, in words.
    severity_note: str = ""


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

CODES: dict[str, FindingCode] = {
    c.code: c
    for c in (
        FindingCode(
            code="train-mode",
            severity=_W,
            summary="submodules were in training mode when export was asked; onnxproof exported in eval mode",
            fix="call model.eval() before exporting yourself; Dropout and BatchNorm behave differently in training",
            details=(
                "A model left in training mode exports Dropout as a random op and BatchNorm with batch "
                "statistics: the file then gives different answers from the model you validated. "
                "onnxproof always exports in eval mode under no_grad and verifies against eval-mode "
                "PyTorch; the finding names the modules that were in training mode. It is info, not a "
                "warning, when onnxproof itself built the model from its class (training is nn.Module's "
                "default there)."
            ),
        ),
        FindingCode(
            code="export-failed",
            severity=_E,
            summary="every exporter strategy failed; no ONNX file was written",
            fix="read each attempt's error; the message names the operator or the construct to change",
        ),
        FindingCode(
            code="invalid-model",
            severity=_E,
            summary="the file fails onnx.checker: runtimes may refuse it or compute something else",
            fix="read the checker's message (onnxproof check FILE shows it) and re-export, or repair the node it names",
            details=(
                "onnx.checker (full check, strict shape inference) rejected the file. The lint rules "
                "still run on what they can read and pass over what they cannot, so their findings on "
                "an invalid file are incomplete. A file that is not an ONNX model at all (zero bytes, "
                "text, a truncated protobuf) is bad input instead: exit code 2, no findings."
            ),
        ),
        FindingCode(
            code="export-fallback",
            severity=_I,
            summary="the first exporter strategy failed and a later one wrote the file",
            fix="read why the first failed; the fallback (TorchScript tracing) captures one path of control flow",
            details=(
                "onnxproof tries the dynamo exporter first and the TorchScript exporter second. A file "
                "written by the fallback is verified like any other, but tracing records only the "
                "branches the example input took, so check traced-control-flow findings too."
            ),
        ),
        FindingCode(
            code="traced-control-flow",
            severity=_E,
            summary="control flow depends on tensor values; only one path can be in the file",
            fix="replace the `if` on a tensor value with torch.where or torch.cond, or remove the data-dependent branch",
            details=(
                "Tracing turned a tensor into a Python bool (a TracerWarning), so only the branch taken "
                "for the example input was captured; or the dynamo exporter refused a data-dependent "
                "guard. The location is the line in your code. Inputs taking the other branch give wrong "
                "answers in ONNX: onnxproof's random draws of both signs and scales usually show it as "
                "output-mismatch too."
            ),
        ),
        FindingCode(
            code="traced-guard",
            severity=_W,
            summary="tracing dropped a check that raises: the file accepts inputs the model rejects",
            fix="validate such inputs before calling the ONNX file, or export with the dynamo exporter, which keeps shape checks",
            details=(
                "The TorchScript tracer turned a condition into a Python bool, and the line it names "
                "is an `if` whose body only raises (or an `assert`): the path traced is the one that "
                "does not raise, so what the file computes is unaffected; it just never raises where "
                "PyTorch would. A condition that chooses between computations is "
                "traced-control-flow, an error."
            ),
        ),
        FindingCode(
            code="traced-shape-branch",
            severity=_W,
            summary="tracing fixed a branch on a tensor's shape for the example input's sizes",
            fix="check that parity passed at every size; for a branch that must follow the size in the file, use torch.cond or the dynamo exporter",
            details=(
                "The TorchScript tracer turned a condition into a Python bool, and the line it names "
                "reads shapes alone (x.shape, x.size(), len(x)): transformers' own guards are like "
                "this. The file holds the branch taken at the example's sizes; parity at several "
                "sizes shows whether the other sizes need the other branch (then it fails as "
                "output-mismatch). A condition that reads tensor values is traced-control-flow, an "
                "error."
            ),
        ),
        FindingCode(
            code="traced-constant",
            severity=_W,
            summary="tracing turned a tensor into a Python number; the example input's value may be baked in",
            fix="keep the computation in tensors (x.shape[0] rather than int(x.sum())) or check parity at several sizes",
        ),
        FindingCode(
            code="single-size",
            severity=_W,
            summary="a dynamic dim was compared at one size only: PyTorch raised at every other",
            fix="give sizes the model accepts (name=SIZE in --input, or --data at other sizes), or export the dim static if the model only takes one size",
        ),
        FindingCode(
            code="tolerance-loosened",
            severity=_W,
            summary="an output was compared with a tolerance more than 10 times its dtype's default",
            fix="keep --atol/--rtol/--tol near the defaults; a wider tolerance needs a reason (fp16 compute, a known kernel difference) written beside it",
        ),
        FindingCode(
            code="output-dtype-mismatch",
            severity=_E,
            summary="an output's type in the file is not the one PyTorch returns",
            fix="export the model as it is deployed (no casts added or removed after export); for verify, check the file was made from this model",
        ),
        FindingCode(
            code="opset-above-request",
            severity=_E,
            summary=(
                "the file's opset is above the one asked for: a runtime capped at the opset asked "
                "for refuses it"
            ),
            fix="use --exporter torchscript (it writes opsets below 18 itself), or ask for the opset the file has",
        ),
        FindingCode(
            code="opset-changed",
            severity=_W,
            summary="the exporter wrote a lower opset than the one asked for",
            fix="the dynamo exporter translates at opset 18 and down-converts; ask for >= 18 or use --exporter torchscript",
        ),
        FindingCode(
            code="stochastic-op",
            severity=_E,
            summary="the graph holds a random op, or Dropout/BatchNormalization in training mode",
            fix="export in eval mode; replace random ops in forward with inputs or fixed buffers",
            details=(
                "RandomNormal/Uniform(Like), Bernoulli and Multinomial give new values on every run, and "
                "Dropout with training_mode or BatchNormalization with training_mode=1 behave as in "
                "training. Serving such a file gives different answers for the same input."
            ),
        ),
        FindingCode(
            code="baked-dimension",
            severity=_E,
            summary="a dim declared dynamic is fixed in the file, or the model only works at the example size",
            fix="use x.shape[i] or -1 in reshape/view instead of Python numbers; avoid int() on sizes",
            details=(
                "Either the exported graph fixes a dim the input spec named (the input shape holds a "
                "number), or parity passes at the example size but fails or crashes at other sizes of "
                "that dim: a Reshape, Expand or similar node carries the example size as a constant."
            ),
        ),
        FindingCode(
            code="dim-range",
            severity=_I,
            summary="torch.export bounded a dim declared dynamic: the file was made for sizes in that range",
            fix="deploy within the range, or make the branch on the size follow it in the file (torch.cond)",
            details=(
                "The model's code branches on the dim's size (if x.shape[1] > 16): torch.export kept "
                "the branch the example took and bounded the dim so that it holds (its "
                "range_constraints). The file has no guard: past the bound it computes that branch "
                "anyway. Verification tries the size just past the upper bound; when the file "
                "disagrees there, the error is past-dim-range."
            ),
        ),
        FindingCode(
            code="past-dim-range",
            severity=_E,
            summary="past the range torch.export gave a dynamic dim, the file disagrees with PyTorch",
            fix="keep inputs within the range, export at a size past it for that path, or express the branch with torch.cond so the file holds both",
            details=(
                "torch.export bounded the dim because the model takes another code path past the "
                "bound (a chunked path for long sequences, a special case for big batches); the file "
                "holds only the path of the example. Every generated case within the range agreed and "
                "the cases past it disagreed: the message names the range and the failing sizes."
            ),
        ),
        FindingCode(
            code="static-shape",
            severity=_W,
            summary="every dim of an input is static, so the dummy input's batch size is welded in",
            fix="name the dim in the spec: --input 'x:float32[batch,3,224,224]'",
        ),
        FindingCode(
            code="nondeterministic",
            severity=_E,
            summary="the same input gives different outputs on two runs (ONNX Runtime or eval-mode PyTorch)",
            fix="remove random ops and stateful buffers updated in forward; check stochastic-op findings",
        ),
        FindingCode(
            code="float64",
            severity=_W,
            summary="float64 tensors in the graph: slow, and unsupported on several targets",
            fix="cast the model and inputs to float32 (model.float()); look for torch.float64 constants and np.float64 arrays",
            severity_note="error for targets without float64 (tensorrt, coreml, ort-web where noted)",
        ),
        FindingCode(
            code="external-data",
            severity=_I,
            summary="the model needs a side .data file to load",
            fix="ship the named .data file beside the .onnx, in the same folder, under the same name",
        ),
        FindingCode(
            code="unsupported-op",
            severity=_E,
            summary="an op (or op on a dtype) the target does not support",
            fix="re-export at another opset, rewrite the op in supported ones, or pick a target that has it",
            severity_note="reported per --target",
        ),
        FindingCode(
            code="opset-too-new",
            severity=_E,
            summary="the model's opset is above what the target supports",
            fix="export with --opset at or below the target's maximum (and check opset-changed)",
            severity_note="reported per --target",
        ),
        FindingCode(
            code="int64-unsupported",
            severity=_W,
            summary="int64 inputs or outputs on a target with limited int64 support",
            fix="use int32 for ids and indices where the values fit",
            severity_note="error where the target has no int64",
        ),
        FindingCode(
            code="dynamic-shape-unsupported",
            severity=_I,
            summary="dynamic dims on a target with limited dynamic-shape support",
            fix="export with static shapes for this target, or set the runtime's shape profiles",
            severity_note="error where the target has none",
        ),
        FindingCode(
            code="precision-sensitive-op",
            severity=_I,
            summary="normalizations and long reductions in float16/bfloat16 differ from PyTorch beyond elementwise error",
            fix="keep these ops in float32 (mixed precision), or verify with tolerances for reduced precision",
        ),
        FindingCode(
            code="output-mismatch",
            severity=_E,
            summary="an output of the ONNX model differs from PyTorch beyond the tolerance",
            fix="see the parity table; a higher opset, the other exporter, or a fix in the model code",
        ),
        FindingCode(
            code="reference-not-finite",
            severity=_E,
            summary="PyTorch's output was NaN or infinite wherever it was produced: nothing of it was compared",
            fix=(
                "give inputs the model is defined on: --data with real samples, or a value range "
                "in the input spec (x:float32[batch,8]{0.1..10}); or find where the model makes NaN"
            ),
            details=(
                "A pair NaN on both sides (or the same infinity on both sides) agrees but proves "
                "nothing, so it is not counted as compared, and a case whose reference is NaN in "
                "every element is not compared at all. When that leaves nothing of an output, the "
                "file was never checked against the model for it, whatever the runtime computed: "
                "usually the generated inputs lie outside the model's domain (a log or sqrt of "
                "negative values) or the model itself produces NaN."
            ),
        ),
        FindingCode(
            code="reference-partly-not-finite",
            severity=_W,
            summary="a notable fraction of PyTorch's output was NaN or infinite: those elements prove nothing",
            fix=(
                "give inputs the model is defined on (--data, or a value range in the input "
                "spec), or find where the model makes NaN or inf"
            ),
            details=(
                "Elements NaN or infinite in the reference are not compared when the runtime "
                "gives the same, so the verdict rests on the other elements only. From 1% of the "
                "reference's elements on, this warning gives the fraction."
            ),
        ),
        FindingCode(
            code="small-output-mismatch",
            severity=_E,
            summary="an output no larger than its atol differs from PyTorch by relative L2 error",
            fix=(
                "find the divergence (--localize); if the output is float noise by design, give it "
                "a tolerance of its own with --tol NAME=ATOL,RTOL"
            ),
            details=(
                "When an output's RMS is at or below atol, |a - b| <= atol + rtol*|b| holds for "
                "errors as large as the output itself, so the elementwise test cannot see them. "
                "Such an output is also judged by ||a - b|| / ||b|| and fails above 0.1 (faithful "
                "float32 kernels give ~1e-7; a 1.5x error gives 0.5) and above 10 times the "
                "output's own noise: how much PyTorch's output moves when its float inputs move "
                "by one ulp (~1 for an output that is a difference of nearly equal terms, which "
                "then passes). An output with its own --tol is judged elementwise only."
            ),
        ),
        FindingCode(
            code="runtime-failure",
            severity=_E,
            summary="the runtime could not run the ONNX file on some inputs PyTorch accepts",
            fix=(
                "read the message: 'fixed to N' means a size was baked in at export; 'could not "
                "load' means the runtime rejects the file itself (an op it lacks, an opset too "
                "new, an invalid graph: run onnxproof check on it)"
            ),
        ),
        FindingCode(
            code="reduced-precision",
            severity=_W,
            summary="a runtime computed in reduced precision (bf16 or f16) with its default settings",
            fix=(
                'compile with {"INFERENCE_PRECISION_HINT": "f32"} (verify with --runtime '
                "openvino-f32) when float32 accuracy matters, or accept the precision and widen "
                "the tolerance for that runtime"
            ),
            details=(
                "OpenVINO's CPU plugin picks its inference precision for the CPU it runs on: bf16 "
                "on CPUs with AVX512_BF16 or AMX, f32 elsewhere. The same file and the same code "
                "then give different numbers on different hosts, differing from PyTorch's float32 "
                "by about 1e-3, beyond onnxproof's default tolerance. The runtime row verifies what "
                "a deployment with default settings gets; the finding names the precision the "
                "runtime chose here."
            ),
        ),
        FindingCode(
            code="fresh-weights",
            severity=_W,
            summary="the model was built from its class with no --weights: its weights are new random ones",
            fix="pass --weights with the state dict the file was exported from, or a factory that loads it",
            details=(
                "onnxproof verify compares an existing ONNX file with the model you name. A class built "
                "with no arguments starts from fresh random weights, which differ from those in the "
                "file, so every output differs. onnxproof run exports and verifies the same instance "
                "and is not affected."
            ),
        ),
        FindingCode(
            code="default-int-range",
            severity=_I,
            summary="an integer input has no value range in its spec; generated values are 0..9",
            fix="add a range to the spec, for example ids:int64[batch,seq]{0..30521}",
        ),
        FindingCode(
            code="inferred-padding-mask",
            severity=_I,
            summary="an input named like a padding mask got padding-mask data: each row tokens, then padding",
            fix="write {mask} (1 marks a token) or {pad} (1 marks padding) in its spec to say so, or a range ({1..1}) for other values",
            details=(
                "Inputs whose spec gives no range are generated as padding masks when their name "
                "says so: each row a prefix of tokens of a length drawn in [1, seq], then padding, "
                "never a row of only padding. attention_mask and padding_mask (transformers: 1 "
                "marks a token) get ones then zeros ({mask}); key_padding_mask, "
                "src_/tgt_/memory_key_padding_mask and other *_padding_mask (PyTorch's "
                "nn.MultiheadAttention and nn.Transformer*, fairseq: True marks padding) get "
                "zeros then ones ({pad}). One extra case then pads a whole row (see "
                "masked-row-mismatch)."
            ),
        ),
        FindingCode(
            code="inferred-position-ids",
            severity=_I,
            summary="an input named position_ids got 0, 1, 2, ... along its last dim",
            fix="write {positions} in its spec to say so, or a range for other values",
        ),
        FindingCode(
            code="masked-row-mismatch",
            severity=_W,
            summary="outputs differ from PyTorch only where a padding mask says padding: fully masked rows or padded positions",
            fix=(
                "nothing, if such rows never reach the model and nobody reads outputs at padded "
                "positions; else make the model's result for them defined (mask with the dtype's "
                "lowest value instead of -inf, or zero the padded positions after the softmax)"
            ),
            details=(
                "With every position of a row masked, the attention softmax sees only -inf (or only "
                "the lowest float) and eager PyTorch and the runtime resolve it differently (NaN, a "
                "uniform average, zeros): neither answer means anything. onnxproof tries one such "
                "row once, beside rows that hold tokens; a difference confined to the masked row is "
                "this warning, not a parity failure, while a difference on any other row fails. "
                "Likewise, per position: when an output's leading dims are a padding mask's "
                "[batch, seq] and every element out of tolerance lies at a position the mask marks "
                "as padding (a sliding window holding only padding, nn.TransformerEncoder's "
                "nested-tensor fast path returning zeros there), the token positions alone are "
                "judged and the excused elements are counted in this warning; a difference at any "
                "token position fails."
            ),
        ),
        FindingCode(
            code="cache-not-verified",
            severity=_I,
            summary="a model that generates with a key/value cache was exported and verified without it",
            fix="run with --task text-generation-with-past to export the step model with past_key_values and verify greedy decoding",
            details=(
                "The file computes the whole sequence in one call: every token is recomputed at each "
                "step. Deployed decoders feed the cache of the previous step back as past_key_values; "
                "that graph (its cache inputs, outputs and attention over the past) was not exported "
                "or compared here."
            ),
        ),
        FindingCode(
            code="cache-unsupported",
            severity=_W,
            summary="text-generation-with-past was asked but the model has no key/value cache to export",
            fix="verify it without a cache (--task text-generation), or load the model as a decoder-only causal LM",
            details="The message says why: no past_key_values in its forward, an encoder-decoder, or a cache that did not run.",
        ),
        FindingCode(
            code="generation-diverged",
            severity=_E,
            summary="greedy decoding with the key/value cache in the runtime parts from eager PyTorch",
            fix="read the first divergent step and module; the step's inputs are those of eager PyTorch at that step",
            details=(
                "Both sides decode the same prompt token by token, each feeding its own present back as "
                "past. The first step whose logits exceed the tolerance, or whose argmax token differs, "
                "is named with its largest difference, and the first PyTorch module whose output "
                "diverges on that step's inputs."
            ),
        ),
    )
}


def catalogue_markdown() -> str:
    """docs/findings.md, generated from CODES (`python -m onnxproof.linting.codes`)."""
    lines = [
        "# Findings",
        "",
        "Every finding onnxproof reports has a stable code. `onnxproof explain CODE` prints an entry;",
        "this page is generated from `src/onnxproof/linting/codes.py` by",
        "`python -m onnxproof.linting.codes > docs/findings.md`.",
        "",
        "A finding of severity `error` fails the run (exit 1); `--fail-on warning` fails on warnings too.",
        "",
        "| code | severity | when |",
        "|---|---|---|",
    ]
    for c in CODES.values():
        note = f" ({c.severity_note})" if c.severity_note else ""
        lines.append(f"| [`{c.code}`](#{c.code}) | {c.severity.value}{note} | {c.summary} |")
    for c in CODES.values():
        lines += ["", f"## {c.code}", "", f"**Severity:** {c.severity.value}"]
        if c.severity_note:
            lines[-1] += f"; {c.severity_note}"
        lines += ["", c.summary[0].upper() + c.summary[1:] + "."]
        if c.details:
            lines += ["", c.details]
        lines += ["", f"**Fix:** {c.fix}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(catalogue_markdown(), end="")
