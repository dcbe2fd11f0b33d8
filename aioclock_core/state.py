"""Snapshots of a task's live state, as the scheduler sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from uuid import UUID

from aioclock_core.events import RunKind, RunOutcome

__all__ = ["TaskState", "RunSummary", "TaskSnapshot"]


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
