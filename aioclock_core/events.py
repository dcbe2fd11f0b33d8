"""Events the scheduler publishes: frozen, past-tense records, one per thing that happened.

Subscribe with `AioClock.subscribe(callback)` (called on the bus's delivery thread,
in order, never on the scheduler's loop) or iterate `AioClock.events()` (an async
iterator on the scheduler's loop). A slow or raising subscriber never delays a firing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from uuid import UUID

from aioclock_core.runs import RunKind, RunOutcome, RunRecord

__all__ = [
    "Event",
    "Subscription",
    "RunKind",
    "RunOutcome",
    "SkipReason",
    "SchedulerStarted",
    "SchedulerStopping",
    "SchedulerStopped",
    "TaskScheduled",
    "RunStarted",
    "RunFinished",
    "RunSkipped",
    "ThreadOverran",
    "ThreadReturned",
    "TaskPaused",
    "TaskResumed",
    "TaskAdded",
    "TaskRemoved",
    "TaskRescheduled",
    "LoopBlocked",
]


class SkipReason(str, Enum):
    """Why a firing did not start a run."""

    OVERLAP = "overlap"
    """The task already had `max_concurrent_runs` runs going."""
    PAUSED = "paused"
    MISSED = "missed"
    """The scheduler woke later than the task's misfire grace time, or the firing
    was coalesced into a later one."""
    ELSEWHERE = "elsewhere"
    """Another replica claimed the firing and ran it (`detail` names it)."""
    UNAVAILABLE = "unavailable"
    """The coordinator could not be reached and the policy is to skip (`detail` says why)."""


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every event: `at` is when it happened (scheduler clock, UTC)."""

    at: datetime


@dataclass(frozen=True, slots=True)
class SchedulerStarted(Event):
    """The scheduler entered the lifespan and is dispatching tasks."""

    task_count: int


@dataclass(frozen=True, slots=True)
class SchedulerStopping(Event):
    """Shutdown began: no new firings; running runs get `grace` seconds."""

    grace: float


@dataclass(frozen=True, slots=True)
class SchedulerStopped(Event):
    """Every run ended and the lifespan exited."""


@dataclass(frozen=True, slots=True)
class TaskScheduled(Event):
    """The task's next firing is `next_fire_time` (None: its trigger is exhausted)."""

    task_id: UUID
    task_name: str
    next_fire_time: datetime | None


@dataclass(frozen=True, slots=True)
class _RunEvent(Event):
    """An event about one run: `run` is its record."""

    run: RunRecord

    @property
    def task_id(self) -> UUID:
        return self.run.task_id

    @property
    def task_name(self) -> str:
        return self.run.task_name


@dataclass(frozen=True, slots=True)
class RunStarted(_RunEvent):
    """A run began: `run` is its record (no outcome yet)."""


@dataclass(frozen=True, slots=True)
class RunFinished(_RunEvent):
    """A run ended: `run` is its record (outcome, error, result, logs)."""


@dataclass(frozen=True, slots=True)
class ThreadOverran(_RunEvent):
    """A run of a sync task ended (timed out or cancelled) while its worker thread kept
    running: Python cannot stop a thread. The thread keeps the task's overlap slot
    (`max_concurrent_runs`) and its limiter token until the body returns, which a
    `ThreadReturned` event reports. `run` is the run's finished record."""


@dataclass(frozen=True, slots=True)
class ThreadReturned(_RunEvent):
    """The worker thread of a run that had already ended returned at last, `overran`
    seconds after the run's end; its slots are free again. `run` is the run's record."""

    overran: float


@dataclass(frozen=True, slots=True)
class RunSkipped(Event):
    """`count` firings, the latest at `scheduled_for`, did not run, for `reason`."""

    task_id: UUID
    task_name: str
    scheduled_for: datetime
    reason: SkipReason
    count: int = 1
    kind: RunKind = RunKind.SCHEDULE
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class TaskPaused(Event):
    """The task was paused: its firings are skipped until it is resumed.

    `session_only`: paused by `serve(paused=True)` (clocktui's `--paused`) for this
    session; a store does not keep it, unlike a pause asked for by a user."""

    task_id: UUID
    task_name: str
    session_only: bool = False


@dataclass(frozen=True, slots=True)
class TaskResumed(Event):
    """The task was resumed."""

    task_id: UUID
    task_name: str


@dataclass(frozen=True, slots=True)
class TaskAdded(Event):
    """A task was registered while the app serves, and is planned (`trigger` describes
    its trigger as the console shows it)."""

    task_id: UUID
    task_name: str
    group: str | None
    trigger: str
    timeout: float | None


@dataclass(frozen=True, slots=True)
class TaskRemoved(Event):
    """A task was removed while serving: it fires no more (its history stays)."""

    task_id: UUID
    task_name: str


@dataclass(frozen=True, slots=True)
class TaskRescheduled(Event):
    """A task got a new trigger while serving (`trigger` describes it)."""

    task_id: UUID
    task_name: str
    trigger: str


@dataclass(frozen=True, slots=True)
class LoopBlocked(Event):
    """The event loop did not run for `blocked_for` seconds; the run executing then is named.

    `task_id` is None when no run was executing (the block came from outside a task).
    """

    blocked_for: float
    task_id: UUID | None
    task_name: str | None
    run_id: UUID | None


class Subscription:
    """A handle on one event subscriber; `close()` stops delivery to it."""

    def __init__(self, close: Callable[[], None]) -> None:
        self._close = close

    def close(self) -> None:
        """Stop delivering events to this subscriber (idempotent)."""
        self._close()
