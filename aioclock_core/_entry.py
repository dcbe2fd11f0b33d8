"""TaskEntry: the scheduler's live record of one task (timeline, runs, counters)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from aioclock_core._timeline import Timeline
from aioclock_core.events import RunKind, RunOutcome
from aioclock_core.state import RunSummary, TaskSnapshot, TaskState
from aioclock_core.task import Task

if TYPE_CHECKING:
    import anyio


@dataclass(eq=False, slots=True)
class Run:
    """One run: in flight, then (as a task's last run) its outcome."""

    task_id: UUID
    task_name: str
    run_id: UUID
    kind: RunKind
    scheduled_for: datetime
    task: asyncio.Task[None] | None = None
    timed_out: bool = False
    cancelled_by_user: bool = False
    result: Any = None
    error: BaseException | None = None
    started_at: datetime | None = None
    duration: float = 0.0
    outcome: RunOutcome | None = None
    error_type: str | None = None
    error_message: str | None = None
    traceback: str | None = None
    claim_key: str | None = None
    ended: bool = False

    def summary(self) -> RunSummary:
        """The finished run's facts, as the public RunSummary."""
        assert self.started_at is not None and self.outcome is not None
        return RunSummary(
            run_id=self.run_id,
            kind=self.kind,
            scheduled_for=self.scheduled_for,
            started_at=self.started_at,
            duration=self.duration,
            outcome=self.outcome,
            error_type=self.error_type,
            error_message=self.error_message,
            traceback=self.traceback,
        )


@dataclass(eq=False, slots=True)
class TaskEntry:
    """Everything the scheduler tracks about one task."""

    task: Task
    call: Callable[[], Any]
    is_async: bool
    limiter: anyio.CapacityLimiter | None
    timeline: Timeline | None = None
    legacy: bool = False
    paused: bool = False
    finished: bool = False
    deferred: bool = False
    heap_token: int = -1
    last_instant: datetime | None = None
    runs: dict[Run, Run] = field(default_factory=dict)  # keyed by identity: cheap to hash
    run_count: int = 0
    failure_count: int = 0
    last_run: Run | None = None
    label: str = ""
    coordination_warned: bool = False

    @property
    def next_fire_time(self) -> datetime | None:
        return None if self.timeline is None or self.finished else self.timeline.pending

    def snapshot(self) -> TaskSnapshot:
        if self.runs:
            state = TaskState.RUNNING
        elif self.finished:
            state = TaskState.FINISHED
        elif self.paused:
            state = TaskState.PAUSED
        else:
            state = TaskState.IDLE
        return TaskSnapshot(
            task_id=self.task.id,
            task_name=self.task.name,
            group=self.task.group,
            state=state,
            next_fire_time=self.next_fire_time,
            running=len(self.runs),
            last_run=None if self.last_run is None else self.last_run.summary(),
            run_count=self.run_count,
            failure_count=self.failure_count,
            paused=self.paused,
        )
