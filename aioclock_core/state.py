"""Snapshots of a task's live state, as the scheduler sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol
from uuid import UUID

from aioclock_core.events import RunKind, RunOutcome

__all__ = ["TaskState", "RunSummary", "TaskSnapshot", "LiveRun"]


class TaskState(str, Enum):
    """Where a task is in its life."""

    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    """Its trigger is exhausted: it will not fire again."""


@dataclass(frozen=True, slots=True)
class RunSummary:
    """The facts of one finished run."""

    run_id: UUID
    kind: RunKind
    scheduled_for: datetime
    started_at: datetime
    duration: float
    outcome: RunOutcome
    error_type: str | None = None
    error_message: str | None = None
    traceback: str | None = None


@dataclass(frozen=True, slots=True)
class TaskSnapshot:
    """A task's state at one instant."""

    task_id: UUID
    task_name: str
    group: str | None
    state: TaskState
    next_fire_time: datetime | None
    running: int
    last_run: RunSummary | None
    run_count: int
    failure_count: int
    paused: bool


class LiveRun(Protocol):
    """The scheduler's own record of a run, as `AioClock.watch_runs` callbacks get it
    (read-only). While `ended` is False only the first six fields are meaningful."""

    @property
    def task_id(self) -> UUID: ...
    @property
    def task_name(self) -> str: ...
    @property
    def run_id(self) -> UUID: ...
    @property
    def kind(self) -> RunKind: ...
    @property
    def scheduled_for(self) -> datetime: ...
    @property
    def started_at(self) -> datetime | None: ...
    @property
    def ended(self) -> bool: ...
    @property
    def duration(self) -> float: ...
    @property
    def outcome(self) -> RunOutcome | None: ...
    @property
    def error_type(self) -> str | None: ...
    @property
    def error_message(self) -> str | None: ...
    @property
    def traceback(self) -> str | None: ...
