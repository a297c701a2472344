"""Target profiles: what each deployment runtime accepts, loaded from the JSON files beside this.

Each file names its sources and the runtime version its facts describe (see README.md here).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from onnxproof.errors import InputSpecError

Support = Literal["supported", "unsupported", "partial"]
_HERE = Path(__file__).parent


@dataclass(frozen=True, kw_only=True)
class TargetProfile:
    name: str
    title: str
    runtime_version: str
    sources: tuple[str, ...]
    max_opset: int | None
    float64: Support
    int64: Support
    dynamic_shapes: Support
    #: op_type → supported element types (None: not restricted). None as a whole: no op list.
    ops: dict[str, tuple[str, ...] | None] | None
    ms_domain_ops: tuple[str, ...] | None
    notes: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TargetProfile:
        ops = data.get("ops")
        return cls(
            name=data["name"],
            title=data["title"],
            runtime_version=data["runtime_version"],
            sources=tuple(data.get("sources") or ()),
            max_opset=data.get("max_opset"),
            float64=data["float64"],
            int64=data["int64"],
            dynamic_shapes=data["dynamic_shapes"],
            ops=None
            if ops is None
            else {k: None if v is None else tuple(v) for k, v in ops.items()},
            ms_domain_ops=None
            if data.get("ms_domain_ops") is None
            else tuple(data["ms_domain_ops"]),
            notes=data.get("notes") or "",
        )


def target_names() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in _HERE.glob("*.json")))


@cache
def load_target(name: str) -> TargetProfile:
    """The profile called ``name``; InputSpecError listing the known ones otherwise."""
    path = _HERE / f"{name}.json"
    if not path.is_file():
        raise InputSpecError(
            f"unknown target {name!r}", hint=f"choose from {', '.join(target_names()) or 'none'}"
        )
    return TargetProfile.from_dict(json.loads(path.read_text()))
