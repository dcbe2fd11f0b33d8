"""Snapshots of a task's live state, and the one rule that says what state a task is in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from uuid import UUID

from aioclock_core.runs import RunRecord

__all__ = ["TaskState", "TaskSnapshot", "task_state"]


class TaskState(str, Enum):
    """Where a task is in its life."""

    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    """Its trigger is exhausted: it will not fire again."""


def task_state(*, running: int, paused: bool, finished: bool) -> TaskState:
    """A task's state from its facts: a run going wins, then an exhausted trigger (it
    will not fire again, paused or not), then a pause."""
    if running:
        return TaskState.RUNNING
    if finished:
        return TaskState.FINISHED
    if paused:
        return TaskState.PAUSED
    return TaskState.IDLE


@dataclass(frozen=True, slots=True)
class TaskSnapshot:
    """A task's state at one instant."""

    task_id: UUID
    task_name: str
    group: str | None
    state: TaskState
    next_fire_time: datetime | None
    running: int
    last_run: RunRecord | None
    """The last finished run."""
    run_count: int
    failure_count: int
    paused: bool
