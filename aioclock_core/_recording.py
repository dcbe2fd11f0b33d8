"""StoreRecorder: turns scheduler events into store writes (on the loop, never blocking)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from aioclock_core.events import (
    Event,
    RunFinished,
    RunKind,
    RunSkipped,
    RunStarted,
    SkipReason,
    TaskPaused,
    TaskResumed,
)
from aioclock_core.stores.base import RunRecord, SkipRecord, Store, TaskRecord
from aioclock_core.stores.memory import MemoryStore


class StoreRecorder:
    """An on-loop event subscriber that hands each run, skip and state change to a store."""

    def __init__(self, store: Store, tasks: dict[UUID, TaskRecord], replica: str | None) -> None:
        self._store = store
        self._tasks = tasks
        self._replica = replica
        handlers: dict[type[Event], Callable[[Any], None]] = {
            RunFinished: self._finished,
            RunSkipped: self._skipped,
            TaskPaused: self._paused,
            TaskResumed: self._resumed,
        }
        # Memory does not outlive the process, so run starts and last firings (which only
        # serve a restart) are not worth their cost on every firing there.
        self._progress = not isinstance(store, MemoryStore)
        if self._progress:
            handlers[RunStarted] = self._started
        self._handlers = handlers

    def __call__(self, batch: Sequence[Event]) -> None:
        handlers = self._handlers
        for event in batch:
            handler = handlers.get(type(event))
            if handler is not None:
                handler(event)

    def _update(self, task_id: UUID, name: str, **changes: Any) -> None:
        current = self._tasks.get(task_id)
        record = TaskRecord(
            task_id=task_id,
            task_name=name,
            paused=changes.get("paused", current.paused if current else False),
            last_fire_time=changes.get(
                "last_fire_time", current.last_fire_time if current else None
            ),
        )
        self._tasks[task_id] = record
        self._store.save_task(record)

    def _started(self, event: RunStarted) -> None:
        self._store.record_run_started(
            RunRecord(
                run_id=event.run_id,
                task_id=event.task_id,
                task_name=event.task_name,
                kind=event.kind,
                scheduled_for=event.scheduled_for,
                started_at=event.started_at,
                replica=self._replica,
            )
        )
        if event.kind is RunKind.SCHEDULE:
            self._update(event.task_id, event.task_name, last_fire_time=event.scheduled_for)

    def _finished(self, event: RunFinished) -> None:
        self._store.record_run_finished(
            RunRecord(
                run_id=event.run_id,
                task_id=event.task_id,
                task_name=event.task_name,
                kind=event.kind,
                scheduled_for=event.scheduled_for,
                started_at=event.started_at,
                finished_at=event.finished_at,
                outcome=event.outcome,
                duration=event.duration,
                error_type=event.error_type,
                error_message=event.error_message,
                traceback=event.traceback,
                replica=self._replica,
            )
        )

    def _skipped(self, event: RunSkipped) -> None:
        if event.reason is SkipReason.ELSEWHERE:
            return  # the replica that ran it records the run itself
        self._store.record_skip(
            SkipRecord(
                task_id=event.task_id,
                task_name=event.task_name,
                scheduled_for=event.scheduled_for,
                reason=event.reason,
                count=event.count,
                at=event.at,
            )
        )
        if self._progress and event.kind is RunKind.SCHEDULE:
            self._update(event.task_id, event.task_name, last_fire_time=event.scheduled_for)

    def _paused(self, event: TaskPaused) -> None:
        self._update(event.task_id, event.task_name, paused=True)

    def _resumed(self, event: TaskResumed) -> None:
        self._update(event.task_id, event.task_name, paused=False)
