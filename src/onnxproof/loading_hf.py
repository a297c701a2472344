"""transformers models: a folder saved with ``save_pretrained`` (``hf:DIR``), or a model object.

Loaded from the local folder only (``local_files_only``: never the hub) and never with the
folder's own code (``trust_remote_code=False``; a config with an ``auto_map`` is refused). The
input specs are inferred from the config and the forward's parameters, the way Optimum's
dummy-input generators do: token ids in ``[0, vocab_size)``, a padding mask, token types in ``[0, type_vocab_size)``,
images of the config's size and channels, decoder ids for encoder-decoders. transformers is an
optional extra (``pip install 'onnxproof[transformers]'``); only this module imports it.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

from onnxproof.errors import ModelLoadError

PREFIX = "hf:"
#: Example sizes for the dims of generated text inputs.
SEQUENCE = 16
DECODER_SEQUENCE = 8


def is_transformers_model(module: Any) -> bool:
    """A ``PreTrainedModel`` (checked without importing transformers when it is not loaded)."""
    import sys

    if "transformers" not in sys.modules:
        return False
    from transformers import PreTrainedModel

    return isinstance(module, PreTrainedModel)


def load_folder(reference: str) -> Any:
    """The model saved in ``hf:DIR``, in the class its config names, with the cache off."""
    folder = Path(reference[len(PREFIX) :])
    if not (folder / "config.json").is_file():
        raise ModelLoadError(
            f"{folder} has no config.json: not a folder written by save_pretrained",
            hint="save the model with model.save_pretrained(DIR) and pass hf:DIR",
        )
    try:
        import transformers
    except ImportError as exc:
        raise ModelLoadError(
            "hf: models need transformers", hint="pip install 'onnxproof[transformers]'"
        ) from exc
    _refuse_custom_code(folder)
    try:
        # trust_remote_code=False, never the default None: with None transformers asks on stdin
        # whether to run the folder's own Python files, and a "y" runs them.
        config = transformers.AutoConfig.from_pretrained(
            folder, local_files_only=True, trust_remote_code=False
        )
    except Exception as exc:  # an unknown model_type, a config transformers cannot read
        raise ModelLoadError(
            f"transformers could not read {folder / 'config.json'}: "
            f"{type(exc).__name__}: {_first_line(exc)}",
            hint="check the config's model_type (a newer transformers may know it: "
            "pip install -U transformers), or load the model in Python and pass the object",
        ) from exc
    architectures = getattr(config, "architectures", None) or []
    cls = next(
        (getattr(transformers, a) for a in architectures if hasattr(transformers, a)),
        transformers.AutoModel,
    )
    hf_logging = transformers.utils.logging
    bars_were_off = hf_logging.is_progress_bar_enabled() is False
    hf_logging.disable_progress_bar()  # its own "Loading weights" bar would break onnxproof's output
    try:
        model = cls.from_pretrained(folder, local_files_only=True, trust_remote_code=False)
    except Exception as exc:
        raise ModelLoadError(
            f"transformers could not load {folder} as {getattr(cls, '__name__', cls)}: "
            f"{type(exc).__name__}: {_first_line(exc)}",
            hint="check that the folder holds config.json and the weights save_pretrained wrote",
        ) from exc
    finally:
        if not bars_were_off:
            hf_logging.enable_progress_bar()
    without_cache(model)
    return model


def _refuse_custom_code(folder: Path) -> None:
    """Refuse a folder whose config maps its classes to Python files of its own (``auto_map``):
    loading it would run that code, and nothing a user passes on the command line is executed."""
    path = folder / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelLoadError(
            f"cannot read {path}: {type(exc).__name__}: {_first_line(exc)}",
            hint="save the model with model.save_pretrained(DIR) and pass hf:DIR",
        ) from exc
    if not isinstance(config, dict):
        raise ModelLoadError(
            f"{path} is not a JSON object",
            hint="save the model with model.save_pretrained(DIR) and pass hf:DIR",
        )
    auto_map = config.get("auto_map")
    if auto_map:
        targets = (
            ", ".join(f"{k} -> {v}" for k, v in auto_map.items())
            if isinstance(auto_map, dict)
            else str(auto_map)
        )
        raise ModelLoadError(
            f"{path} has an auto_map ({targets[:200]}): the model needs Python code from the "
            "folder itself, which onnxproof never runs",
            hint="if you trust that code, load the model in Python (for example "
            "AutoModel.from_pretrained(DIR, trust_remote_code=True)) and pass the object to "
            "onnxproof.run(model, ...)",
        )


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    line = lines[0] if lines else type(exc).__name__
    if len(line) > 200:  # transformers' messages run on: their first sentence says what failed
        line = line.split(". ")[0]
    return line[:300]


#: Where ``without_cache`` keeps what it changed, on the model instance itself.
_SAVED = "_onnxproof_cache_state"


def without_cache(model: Any) -> None:
    """Export without the key/value cache: a cache changes the graph's inputs and outputs.

    ``config.use_cache = False`` is not enough for every model (transformers 5 encoder-decoders
    still return a cache), so the forward is bound with ``use_cache=False`` where it takes it.
    """
    config = getattr(model, "config", None)
    if _SAVED not in model.__dict__:  # the caller's state, put back by ``restore_cache``
        model.__dict__[_SAVED] = (
            getattr(config, "use_cache", None) if config is not None else None,
            "forward" in model.__dict__,
            model.__dict__.get("forward"),
        )
    if config is not None and getattr(config, "use_cache", False):
        config.use_cache = False
    forward = type(model).forward
    bound = model.__dict__.get("forward")
    if "use_cache" in inspect.signature(forward).parameters and not getattr(
        bound, _NO_CACHE, False
    ):
        model.forward = _forward_without_cache(forward.__get__(model))


#: Marks the forward ``without_cache`` installed.
_NO_CACHE = "_onnxproof_without_cache"


def _forward_without_cache(method: Any) -> Any:
    """``method`` with ``use_cache`` False unless given, under the same signature (its default
    False).

    Not ``functools.partial(..., use_cache=False)``: the TorchScript exporter passes every
    parameter of the signature by position, defaults included, and a partial's keyword then
    collides with the positional value ("got multiple values for argument 'use_cache'").
    """
    signature = inspect.signature(method)
    parameters = [
        p.replace(default=False) if p.name == "use_cache" else p
        for p in signature.parameters.values()
    ]

    varargs = any(p.kind is p.VAR_POSITIONAL for p in parameters)

    def forward(*args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind_partial(*args, **kwargs)
        # False unless the caller asks (the step model of a decoder asks for its cache).
        arguments.arguments.setdefault("use_cache", False)
        if varargs:
            return method(*arguments.args, **arguments.kwargs)
        # By name: transformers' forward decorators may set use_cache among the keywords.
        named = dict(arguments.arguments)
        extra = named.pop(next((p.name for p in parameters if p.kind is p.VAR_KEYWORD), ""), {})
        return method(**named, **extra)

    forward.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    setattr(forward, _NO_CACHE, True)
    return forward


def restore_cache(model: Any) -> None:
    """Undo ``without_cache``: the caller's model generates with its cache again after a run."""
    saved = model.__dict__.pop(_SAVED, None)
    if saved is None:
        return
    use_cache, had_forward, forward = saved
    config = getattr(model, "config", None)
    if config is not None and use_cache is not None:
        config.use_cache = use_cache
    if had_forward:
        model.__dict__["forward"] = forward
    else:
        model.__dict__.pop("forward", None)


def inferred_specs(model: Any) -> tuple[str, ...]:
    """Input specs for a transformers model from its config and forward signature.

    Parameters are bound by position, so only the leading run of parameters this knows how to
    fill is used (GPT-2's second parameter is its cache: there, input_ids alone).
    """
    config = model.config
    known = _known_inputs(config)
    specs = []
    for name in inspect.signature(model.forward).parameters:
        if name not in known:
            break
        specs.append(known[name])
    if not specs:
        raise ModelLoadError(
            f"cannot infer inputs for {type(model).__name__}: its forward starts with "
            f"{list(inspect.signature(model.forward).parameters)[:3]}",
            hint="give --input for each forward argument",
        )
    return tuple(specs)


def _known_inputs(config: Any) -> dict[str, str]:
    vocab = getattr(config, "vocab_size", None)
    ids = f"{{0..{vocab - 1}}}" if vocab else ""
    known = {
        "input_ids": f"input_ids:int64[batch,seq={SEQUENCE}]{ids}",
        # no range: the name makes it a padding mask (specs.infer_roles)
        "attention_mask": f"attention_mask:int64[batch,seq={SEQUENCE}]",
        "decoder_input_ids": f"decoder_input_ids:int64[batch,dseq={DECODER_SEQUENCE}]{ids}",
    }
    types = getattr(config, "type_vocab_size", None)
    if types:
        known["token_type_ids"] = f"token_type_ids:int64[batch,seq={SEQUENCE}]{{0..{types - 1}}}"
    size = getattr(config, "image_size", None)
    channels = getattr(config, "num_channels", None)
    if isinstance(size, int) and channels:
        known["pixel_values"] = f"pixel_values:float32[batch,{channels},{size},{size}]"
    return known


def with_config_ranges(model: Any, specs: tuple[Any, ...]) -> tuple[Any, ...]:
    """Token id inputs given without a range take the config's (``[0, vocab_size)``)."""
    import dataclasses

    from onnxproof.specs import parse_input_spec

    known = _known_inputs(model.config)
    return tuple(
        dataclasses.replace(s, value_range=parse_input_spec(known[s.name]).value_range)
        if s.name in known and s.is_integer and s.value_range is None and s.role is None
        else s
        for s in specs
    )
