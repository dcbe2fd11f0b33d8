"""The app's link to its store: restore state at start, record runs (on the loop, never
blocking), flush at the end."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from aioclock_core._bus import EventBus
from aioclock_core._entry import TaskEntry
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
from aioclock_core.stores.base import RunHooks, RunRecord, SkipRecord, Store, TaskRecord
from aioclock_core.stores.memory import MemoryStore
from aioclock_core.triggers import Triggers

if TYPE_CHECKING:
    from aioclock_core.events import Subscription

logger = logging.getLogger("aioclock")


class StoreRecorder:
    """An on-loop event subscriber that hands each run, skip and state change to a store."""

    def __init__(
        self,
        store: Store,
        tasks: dict[UUID, TaskRecord],
        replica: str | None,
        runs_as_events: bool,
    ) -> None:
        self._store = store
        self._tasks = tasks
        self._replica = replica
        handlers: dict[type[Event], Callable[[Any], None]] = {
            RunSkipped: self._skipped,
            TaskPaused: self._paused,
            TaskResumed: self._resumed,
        }
        # Memory does not outlive the process, so last firings (which only serve a
        # restart) are not worth their cost there. A store on the fast path (hooks) gets
        # runs from the scheduler and derives last firings from them itself.
        self._progress = not isinstance(store, MemoryStore)
        if runs_as_events:
            handlers[RunStarted] = self._started
            handlers[RunFinished] = self._finished
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

    def _record(self, event: RunStarted | RunFinished, **finish: Any) -> RunRecord:
        return RunRecord(
            run_id=event.run_id,
            task_id=event.task_id,
            task_name=event.task_name,
            kind=event.kind,
            scheduled_for=event.scheduled_for,
            started_at=event.started_at,
            replica=self._replica,
            **finish,
        )

    def _started(self, event: RunStarted) -> None:
        self._store.record_run_started(self._record(event))
        if self._progress and event.kind is RunKind.SCHEDULE:
            self._update(event.task_id, event.task_name, last_fire_time=event.scheduled_for)

    def _finished(self, event: RunFinished) -> None:
        self._store.record_run_finished(
            self._record(
                event,
                finished_at=event.finished_at,
                outcome=event.outcome,
                duration=event.duration,
                error_type=event.error_type,
                error_message=event.error_message,
                traceback=event.traceback,
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


@dataclass
class RestoredState:
    """What a store gave back at start."""

    records: dict[UUID, TaskRecord]
    resume: dict[UUID, datetime] = field(default_factory=dict)
    """The last firing of each task whose timeline continues."""
    paused: list[TaskEntry] = field(default_factory=list)
    """Tasks that were paused when the previous process stopped."""


_CONTINUABLE = (Triggers.EVERY, Triggers.AT, Triggers.CRON)


async def open_store(
    store: Store, app_name: str, now: datetime, entries: list[TaskEntry], resume_schedules: bool
) -> RestoredState:
    """Open the store, close runs a dead process left open, restore paused state and
    (with `resume_schedules`) the last firing of Every/At/Cron tasks."""
    await store.open(app_name)
    for run in await store.mark_interrupted(now):
        logger.warning(
            "Task %s: run %s started at %s was interrupted (the process stopped "
            "during it); recorded as interrupted",
            run.task_name,
            run.run_id,
            run.started_at.isoformat(),
        )
    restored = RestoredState(records=await store.load_tasks())
    for entry in entries:
        record = restored.records.get(entry.task.id)
        if record is None:
            continue
        if record.paused:
            entry.paused = True
            restored.paused.append(entry)
        continuable = entry.task.trigger.type_ in _CONTINUABLE
        if resume_schedules and continuable and record.last_fire_time is not None:
            restored.resume[entry.task.id] = record.last_fire_time
    return restored


def record_into_store(
    bus: EventBus,
    store: Store,
    records: dict[UUID, TaskRecord],
    replica: str | None,
) -> tuple[Subscription, RunHooks | None]:
    """Feed the store: a store with run hooks (memory, SQLite) takes runs straight from
    the scheduler (the caller installs the hooks returned), so no per-firing events are
    built for it; other stores get events."""
    hooks = store.run_recorders(replica)
    recorder = StoreRecorder(store, records, replica, runs_as_events=hooks is None)
    kinds: set[type[Event]] = {RunSkipped, TaskPaused, TaskResumed}
    if hooks is None:
        kinds |= {RunStarted, RunFinished}
    return bus.subscribe(recorder, on_loop=True, kinds=kinds), hooks


CLOSE_FLUSH_TIMEOUT = 10.0
"""Seconds serve() waits, on its way out, for a store to write what is queued: a store
whose server is down must not keep the process from stopping."""


async def close_store(store: Store) -> None:
    """Write what is queued and close; a failure is logged, never raised, and an
    unreachable store delays the exit by CLOSE_FLUSH_TIMEOUT at most (then its own
    close, which gives up on a dead server too)."""
    try:
        await asyncio.wait_for(store.flush(), CLOSE_FLUSH_TIMEOUT)
    except asyncio.TimeoutError:
        logger.error(
            "%r did not write its queued records within %g s (is its server down?); "
            "closing it anyway: those records are lost",
            store,
            CLOSE_FLUSH_TIMEOUT,
        )
    except Exception:
        logger.exception("Flushing the store failed; the last runs may not be recorded")
    try:
        await store.close()
    except Exception:
        logger.exception("Closing the store failed; the last runs may not be recorded")
