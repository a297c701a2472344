"""What every record shares: JSON conversion, the verdict literals, and the verdict rule."""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import TYPE_CHECKING, Any, Literal

from onnxproof.specs import Severity

if TYPE_CHECKING:
    from onnxproof.results._check import Finding

#: Version of the JSON report layout; bump on any incompatible change (docs/report-schema.md).
SCHEMA_VERSION = 3

#: The verdict: pass, fail (the model failed a check) or error (onnxproof could not judge).
Status = Literal["pass", "fail", "error"]
#: One step of the pipeline: it passed, failed, could not judge, or did not run.
StepState = Literal["pass", "fail", "error", "not-run"]


def to_jsonable(value: Any) -> Any:
    """Plain JSON data from dataclasses, enums, tuples and non-finite floats (as strings)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


class _Record:
    def to_dict(self) -> dict[str, Any]:
        data = to_jsonable(self)
        assert isinstance(data, dict)
        return data


def status_from(
    findings: tuple[Finding, ...],
    *,
    checks_passed: bool,
    fail_on: Severity | str = Severity.ERROR,
    judged: bool = True,
) -> Status:
    """The verdict: fail when a check failed or a finding reaches ``fail_on``; error when nothing
    failed but a step could not judge."""
    worst = max((f.severity.rank for f in findings), default=-1)
    if not checks_passed or worst >= Severity(fail_on).rank:
        return "fail"
    return "pass" if judged else "error"
