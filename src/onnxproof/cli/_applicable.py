"""Options given where they do nothing are refused: a user who typed ``--steps 32`` without the
task that decodes believes 32 steps were compared."""

from __future__ import annotations

from typing import Any

import click

from onnxproof.errors import UsageError

#: (option's parameter name, its flag, what it needs, the test on the other options).
_NEEDS: tuple[tuple[str, str, str, Any], ...] = (
    (
        "generation_steps",
        "--steps",
        "--task text-generation-with-past",
        lambda o: o.get("task") == "text-generation-with-past",
    ),
    ("workers", "--workers", "--engine ray", lambda o: o.get("engine") == "ray"),
    ("ray_address", "--ray-address", "--engine ray", lambda o: o.get("engine") == "ray"),
    ("image_spec", "--image-spec", "--data (a folder of images)", lambda o: bool(o.get("data"))),
)


#: Options that only shape how --data is read or compared (run and verify; optimize reads them
#: for its calibration data too).
_DATA_ONLY = (
    ("batch_size", "--batch-size"),
    ("max_samples", "--max-samples"),
    ("engine", "--engine"),
)


def _given(name: str) -> bool:
    """True when the user set the option (command line or environment) to something other than
    its default: a wrapper that always passes ``--engine local`` asks for nothing unusual."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return False
    source = ctx.get_parameter_source(name)
    if source in (None, click.core.ParameterSource.DEFAULT):
        return False
    param = next((p for p in ctx.command.params if p.name == name), None)
    default = param.get_default(ctx) if param is not None else None
    return default is None or ctx.params.get(name) != default


def check_applicable(options: dict[str, Any], *, command: str) -> None:
    """Refuse (exit 2, before any work) a data option that the other options make pointless."""
    if command == "optimize":
        for name, flag in (
            ("generation_steps", "--steps"),
            ("engine", "--engine"),
            ("workers", "--workers"),
            ("ray_address", "--ray-address"),
        ):
            if _given(name):
                raise UsageError(
                    f"optimize does not use {flag}: its data is compared here, without decoding",
                    hint=f"drop {flag}",
                )
    for name, flag, needs, met in _NEEDS:
        if _given(name) and not met(options):
            raise UsageError(
                f"{flag} needs {needs}", hint=f"add {needs.split(' (')[0]} or drop {flag}"
            )
    if command != "optimize" and not options.get("data"):
        for name, flag in _DATA_ONLY:
            if _given(name):
                raise UsageError(
                    f"{flag} needs --data: without it the generated cases are compared",
                    hint=f"add --data PATH or drop {flag}",
                )
    if (
        options.get("task") == "classification"
        and not options.get("data")
        and command != "optimize"
    ):
        raise UsageError(
            "--task classification needs --data: top-1/top-5 agreement is measured on the data",
            hint="add --data PATH or drop --task",
        )
