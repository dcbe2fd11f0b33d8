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
    OVERRUN = "overrun"
    """No run is going, but the worker thread of a run that already ended (timed out or
    cancelled: Python cannot stop a thread) still runs, and holds the task's slot."""


def task_state(*, running: int, paused: bool, finished: bool, overrunning: int = 0) -> TaskState:
    """A task's state from its facts: a run going wins, then a thread still running for a
    run that ended, then an exhausted trigger (it will not fire again, paused or not),
    then a pause."""
    if running:
        return TaskState.RUNNING
    if overrunning:
        return TaskState.OVERRUN
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
    overrunning_threads: int = 0
    """Worker threads of this task's runs that already ended (timed out or cancelled) and
    still run: each keeps its overlap slot and limiter token until its body returns."""
