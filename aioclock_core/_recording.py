"""StoreRecorder: turns scheduler events into store writes (on the loop, never blocking)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from aioclock_core.events import (
    Event,
    RunFinished,
    RunKind,
    RunSkipped,
    RunStarted,
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
        # Memory does not outlive the process, so run starts and last firings (which only
        # serve a restart) are not worth their cost on every firing there.
        self._progress = not isinstance(store, MemoryStore)

    def _update(self, task_id: UUID, name: str, **changes: object) -> None:
        current = self._tasks.get(task_id) or TaskRecord(task_id=task_id, task_name=name)
        fields = {
            "task_id": task_id,
            "task_name": name,
            "paused": current.paused,
            "last_fire_time": current.last_fire_time,
        }
        fields.update(changes)
        record = TaskRecord(**fields)  # type: ignore[arg-type]
        self._tasks[task_id] = record
        self._store.save_task(record)

    def __call__(self, batch: Sequence[Event]) -> None:
        store = self._store
        for event in batch:
            if isinstance(event, RunStarted):
                if not self._progress:
                    continue
                store.record_run_started(
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
            elif isinstance(event, RunFinished):
                store.record_run_finished(
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
            elif isinstance(event, RunSkipped):
                store.record_skip(
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
            elif isinstance(event, TaskPaused):
                self._update(event.task_id, event.task_name, paused=True)
            elif isinstance(event, TaskResumed):
                self._update(event.task_id, event.task_name, paused=False)
