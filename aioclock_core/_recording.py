"""The app's link to its store: restore state at start, hand it runs (a run sink), skips
and state changes (bus events), flush at the end."""

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
from aioclock_core._trigger_kinds import Triggers
from aioclock_core.events import (
    Event,
    RunSkipped,
    SkipReason,
    TaskPaused,
    TaskResumed,
)
from aioclock_core.runs import RunKind, RunRecord, RunSink
from aioclock_core.stores.base import SkipRecord, Store, StoreError, TaskRecord

if TYPE_CHECKING:
    from aioclock_core.events import Subscription

logger = logging.getLogger("aioclock")


class StoreRecorder(RunSink):
    """Hands the store every run (as a run sink) and every skip and pause (as an on-loop
    event subscriber), and keeps each task's last firing for a store that does not work
    it out from its runs."""

    def __init__(self, store: Store, tasks: dict[UUID, TaskRecord]) -> None:
        self._store = store
        self._tasks = tasks
        self._handlers: dict[type[Event], Callable[[Any], None]] = {
            RunSkipped: self._skipped,
            TaskPaused: self._paused,
            TaskResumed: self._resumed,
        }
        # A last firing only serves a restart: a store that forgets everything at exit
        # does not need it, and one that keeps runs finds it among them.
        self._progress = store.persistent and not store.derives_last_firing

    @property
    def wants_started(self) -> bool:
        return self._progress or self._store.wants_started

    @property
    def wants_every_start(self) -> bool:
        return self._progress or self._store.wants_every_start  # _update reads each start

    def deliver(self, runs: Sequence[RunRecord]) -> None:
        self._store.deliver(runs)
        if self._progress:
            for run in runs:
                if run.outcome is None and run.kind is RunKind.SCHEDULE:
                    self._update(run.task_id, run.task_name, last_fire_time=run.scheduled_for)

    def idle(self) -> None:
        self._store.idle()

    def busy(self) -> None:
        self._store.busy()

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
        if self._store.persistent and event.kind is RunKind.SCHEDULE:
            self._update(event.task_id, event.task_name, last_fire_time=event.scheduled_for)

    def _paused(self, event: TaskPaused) -> None:
        if not event.session_only:  # serve(paused=True) pauses this session, not for good
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
        trigger = entry.task.trigger
        continuable = trigger.type_ in _CONTINUABLE or (
            trigger.type_ == Triggers.ONCE and getattr(trigger, "at", None) is not None
        )  # a Once at a date that fired already must not fire again
        last = record.last_fire_time
        if resume_schedules and continuable and last is not None:
            if last > now:
                # A clock that was ahead (or a file from another machine): continuing
                # after that instant would keep the task silent until then.
                logger.warning(
                    "Task %s: its last firing is stored as %s, in the future (a clock "
                    "that was ahead?); its schedule continues from now instead",
                    entry.task.name,
                    last.isoformat(),
                )
                last = now
            restored.resume[entry.task.id] = last
    return restored


def record_into_store(
    bus: EventBus, store: Store, records: dict[UUID, TaskRecord]
) -> tuple[Subscription, StoreRecorder]:
    """Feed the store: returns the bus subscription (skips, pauses) and the run sink the
    caller registers."""
    recorder = StoreRecorder(store, records)
    kinds: set[type[Event]] = {RunSkipped, TaskPaused, TaskResumed}
    return bus.subscribe(recorder, on_loop=True, kinds=kinds), recorder


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
    except StoreError as error:  # the store said what went wrong when it went wrong
        logger.error("The last runs may not be recorded: %s", error)
    except Exception:
        logger.exception("Flushing the store failed; the last runs may not be recorded")
    try:
        await store.close()
    except Exception:
        logger.exception("Closing the store failed; the last runs may not be recorded")
