"""Records of a zoo sweep: one row per model (its own run, crash or time-out), and the verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from onnxproof.results._base import SCHEMA_VERSION, _Record

#: A model's outcome in a sweep: its run's verdict, or why its process gave none.
SweepVerdict = Literal["pass", "fail", "error", "crashed", "timed-out"]


@dataclass(frozen=True, kw_only=True)
class ModelSweepResult(_Record):
    """One model of the zoo: what its ``onnxproof run`` process concluded, or how it ended."""

    name: str
    #: The reference as run (paths absolute).
    model: str
    verdict: SweepVerdict
    #: True when an earlier passing report with the same inputs was reused, nothing run.
    cached: bool = False
    #: Why it did not pass, in one line: the run's error, "crashed (signal 11)", "timed out after 5s".
    detail: str = ""
    #: The process's exit code; negative for a signal (None when cached).
    exit_code: int | None = None
    finding_count: int = 0
    #: Distinct finding codes, the most severe first.
    finding_codes: tuple[str, ...] = ()
    #: Wall seconds of the process in this sweep (0 when cached).
    seconds: float = 0.0
    #: Epoch seconds the process started and ended (None when cached).
    started_at: float | None = None
    finished_at: float | None = None
    report_path: str | None = None
    junit_path: str | None = None
    #: What the process printed (its error line, a crash's last words).
    log_path: str | None = None
    #: Hash of everything the result depends on; None when the inputs cannot all be known.
    key: str | None = None

    @property
    def shown_verdict(self) -> str:
        """``pass (cached)``, ``crashed (signal 11)``, ``timed out after 5s``, or the verdict."""
        if self.cached:
            return f"{self.verdict} (cached)"
        if self.verdict in ("crashed", "timed-out"):
            return self.detail
        return self.verdict


@dataclass(frozen=True, kw_only=True)
class SweepReport(_Record):
    """Every model of a zoo, each run in its own process; passes only when every model passed."""

    status: Literal["pass", "fail"]
    zoo: str
    outdir: str
    engine: str
    jobs: int
    models: tuple[ModelSweepResult, ...]
    seconds: float
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        head = {k: data.pop(k) for k in ("schema_version", "status")}
        return {**head, **data}

    @property
    def counts(self) -> dict[str, int]:
        """Models per verdict (cached passes counted as passes)."""
        result: dict[str, int] = {}
        for row in self.models:
            result[row.verdict] = result.get(row.verdict, 0) + 1
        return result
