"""Runs: the one public record of a run (`RunRecord`) and the interface that receives them.

Everything about a run that leaves the scheduler is a `RunRecord`: the `RunStarted` and
`RunFinished` events carry one, stores keep them, `TaskSnapshot.last_run` is one, and
the console shows them. The scheduler hands runs to *sinks* (`RunSink`): in order, in
batches (one per turn of its loop), a run's started record before its finished one,
and `idle()` only after every record of the burst has been delivered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

__all__ = [
    "RunKind",
    "RunOutcome",
    "LogLine",
    "RunRecord",
    "RunSink",
    "run_to_json",
    "run_from_json",
    "MAX_LOG_LINES",
    "MAX_LOG_BYTES",
    "MAX_RESULT_CHARS",
]

MAX_LOG_LINES = 200
"""Log lines a run keeps of its own; later ones are counted in a "N lines dropped" line."""
MAX_LOG_BYTES = 64 * 1024
"""Characters of log messages a run keeps of its own (the same marker counts the rest)."""
MAX_RESULT_CHARS = 1000
"""Characters of a return value's repr that a run keeps."""


class RunKind(str, Enum):
    """Why a run started."""

    SCHEDULE = "schedule"
    MANUAL = "manual"
    CATCH_UP = "catch_up"
    """A firing missed while the app was not running, run at start."""
    RETRY = "retry"
    """Another attempt after a failed run."""


class RunOutcome(str, Enum):
    """How a run ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    """The process died while the run was going (found on the next start)."""
    ABANDONED = "abandoned"
    """A replica died during the run; its claim expired (found by another replica)."""

    @property
    def is_failure(self) -> bool:
        """Whether a run that ended so counts as failed: it did not do its work and nobody
        asked it to stop (a cancelled run is not a failure)."""
        return self in _FAILURES


_FAILURES = frozenset(
    {RunOutcome.FAILED, RunOutcome.TIMED_OUT, RunOutcome.INTERRUPTED, RunOutcome.ABANDONED}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class LogLine:
    """One line a run logged (records logged while the run was the current one)."""

    at: datetime
    level: str
    """The record's level name (``INFO``, ``ERROR``…)."""
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    """One run of a task. While it is going `outcome`, `ended_at` and `duration` are None.

    `result` is a bounded `repr` of the return value (None when the task returned None),
    `logs` the lines the run logged (at most `MAX_LOG_LINES` lines and `MAX_LOG_BYTES`
    characters; a last line says how many were dropped), `replica` the process that ran
    it (with replicas). `attempt` counts from 1.
    """

    run_id: UUID
    task_id: UUID
    task_name: str
    kind: RunKind
    scheduled_for: datetime
    started_at: datetime
    ended_at: datetime | None = None
    duration: float | None = None
    """Seconds, measured on the monotonic clock."""
    outcome: RunOutcome | None = None
    error_type: str | None = None
    error_message: str | None = None
    traceback: str | None = None
    result: str | None = None
    attempt: int = 1
    replica: str | None = None
    logs: tuple[LogLine, ...] = ()

    @property
    def finished(self) -> bool:
        """Whether the run has ended."""
        return self.outcome is not None

    @property
    def failed(self) -> bool:
        """Whether the run ended as a failure (see `RunOutcome.is_failure`)."""
        return self.outcome is not None and self.outcome.is_failure

    @property
    def error(self) -> str | None:
        """``ErrorType: message`` of a run that did not succeed (None otherwise)."""
        if self.error_type is None and self.error_message is None:
            return None
        return ": ".join(part for part in (self.error_type, self.error_message) if part)


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_when(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def run_to_json(run: RunRecord) -> dict[str, Any]:
    """The record as JSON-ready values (times ISO-8601, ids and enums as strings); the
    shape `clocktui history --json` prints and the Redis store keeps."""
    return {
        "run_id": str(run.run_id),
        "task_id": str(run.task_id),
        "task_name": run.task_name,
        "kind": run.kind.value,
        "scheduled_for": _when(run.scheduled_for),
        "started_at": _when(run.started_at),
        "ended_at": _when(run.ended_at),
        "duration": run.duration,
        "outcome": None if run.outcome is None else run.outcome.value,
        "error_type": run.error_type,
        "error_message": run.error_message,
        "traceback": run.traceback,
        "result": run.result,
        "attempt": run.attempt,
        "replica": run.replica,
        "logs": [
            {"at": line.at.isoformat(), "level": line.level, "message": line.message}
            for line in run.logs
        ],
    }


def run_from_json(data: Mapping[str, Any]) -> RunRecord:
    """The record `run_to_json` gave (`finished_at` is read as `ended_at`, as the Redis
    store wrote it before)."""
    started_at = _parse_when(data["started_at"])
    scheduled_for = _parse_when(data["scheduled_for"])
    assert started_at is not None and scheduled_for is not None
    outcome = data.get("outcome")
    return RunRecord(
        run_id=UUID(data["run_id"]),
        task_id=UUID(data["task_id"]),
        task_name=data["task_name"],
        kind=RunKind(data["kind"]),
        scheduled_for=scheduled_for,
        started_at=started_at,
        ended_at=_parse_when(data.get("ended_at", data.get("finished_at"))),
        duration=data.get("duration"),
        outcome=None if outcome is None else RunOutcome(outcome),
        error_type=data.get("error_type"),
        error_message=data.get("error_message"),
        traceback=data.get("traceback"),
        result=data.get("result"),
        attempt=data.get("attempt", 1),
        replica=data.get("replica"),
        logs=tuple(
            LogLine(
                at=datetime.fromisoformat(line["at"]), level=line["level"], message=line["message"]
            )
            for line in data.get("logs", ())
        ),
    )


class RunSink:
    """Receives runs from the scheduler: subclass it and register it with
    `AioClock.add_run_sink`. Stores, the event bus and the console are sinks.

    Every method is called on the scheduler's loop and must return at once (hand the
    records to a queue or another thread; never block). A sink that raises is logged
    and keeps receiving.
    """

    @property
    def wants_started(self) -> bool:
        """Whether `deliver` gets runs as they start (records with `outcome` None) as well
        as when they end. A sink that only keeps finished runs returns False; when no
        sink wants them, the scheduler builds no started record at all."""
        return True

    @property
    def wants_every_start(self) -> bool:
        """With `wants_started`: whether a run that started and ended within one batch
        comes as both records (True, the default: the event bus publishes a RunStarted
        for every run) or as its finished record alone (False: a sink that only tracks
        which runs are going, as the console and the SQLite history's rows of runs in
        flight do). A herd of short runs is then half the records, and the start of a
        run that no sink takes is never built."""
        return True

    def deliver(self, runs: Sequence[RunRecord]) -> None:
        """A batch of runs, in the order they started and ended (read-only)."""

    def idle(self) -> None:
        """No run is in flight any more and every record has been delivered (a burst of
        firings is over): the moment for a writer thread to work."""

    def busy(self) -> None:
        """A run started while none was in flight (a burst begins)."""
