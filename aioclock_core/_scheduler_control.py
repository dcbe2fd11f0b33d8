"""Control of a serving scheduler's tasks: find, pause, resume, run now, cancel, drain
at shutdown, snapshots and coming firings."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aioclock_core._bus import EventBus
from aioclock_core._clock import Clock
from aioclock_core._entry import Run, TaskEntry
from aioclock_core.events import RunSkipped, SkipReason, TaskPaused, TaskResumed
from aioclock_core.exceptions import SchedulerNotRunningError, TaskIdNotFound
from aioclock_core.runs import RunKind
from aioclock_core.state import TaskSnapshot

logger = logging.getLogger("aioclock")


class SchedulerControl:
    """The control operations of `Scheduler` (which holds the state they read); all run
    on the scheduler's event loop."""

    clock: Clock
    bus: EventBus
    entries: dict[uuid.UUID, TaskEntry]
    _by_name: dict[str, TaskEntry]
    stopping: bool
    overrunning: int
    threads_done: asyncio.Event

    if TYPE_CHECKING:  # defined by Scheduler

        @property
        def active_runs(self) -> list[Run]: ...

        def _start_run(
            self, entry: TaskEntry, instant: datetime, kind: RunKind, attempt: int = 1
        ) -> Run: ...

    def _skip(
        self,
        entry: TaskEntry,
        instant: datetime,
        reason: SkipReason,
        count: int,
        kind: RunKind = RunKind.SCHEDULE,
        detail: str | None = None,
    ) -> None:
        if reason is SkipReason.OVERLAP:
            logger.warning(
                "Task %s: firing at %s skipped, the previous run is still going "
                "(max_concurrent_runs=%d)",
                entry.task.name,
                instant.isoformat(),
                entry.task.max_concurrent_runs,
            )
        elif reason is SkipReason.ELSEWHERE:
            logger.debug("Task %s: firing at %s ran on %s", entry.task.name, instant, detail)
        elif reason is SkipReason.MISSED:
            logger.warning(
                "Task %s: %d firing(s) up to %s missed (the scheduler woke up late)",
                entry.task.name,
                count,
                instant.isoformat(),
            )
        if self.bus.active:
            self.bus.publish(
                RunSkipped(
                    at=self.clock.now(),
                    task_id=entry.task.id,
                    task_name=entry.task.name,
                    scheduled_for=instant,
                    reason=reason,
                    count=count,
                    kind=kind,
                    detail=detail,
                )
            )

    def find(self, task: uuid.UUID | str) -> TaskEntry:
        """The entry for a task id, id string or name; TaskIdNotFound otherwise."""
        if isinstance(task, uuid.UUID):
            entry = self.entries.get(task)
        else:
            entry = self._by_name.get(task)
            if entry is None:
                try:
                    entry = self.entries.get(uuid.UUID(task))
                except ValueError:
                    entry = None
        if entry is None:
            raise TaskIdNotFound(
                f"No task {task!r} in this app; known tasks: "
                + ", ".join(sorted(self._by_name)[:10])
            )
        return entry

    def pause(self, entry: TaskEntry, session_only: bool = False) -> bool:
        if entry.paused:
            return False
        entry.paused = True
        if self.bus.active:
            self.bus.publish(
                TaskPaused(self.clock.now(), entry.task.id, entry.task.name, session_only)
            )
        return True

    def resume(self, entry: TaskEntry) -> bool:
        if not entry.paused:
            return False
        entry.paused = False
        if self.bus.active:
            self.bus.publish(
                TaskResumed(at=self.clock.now(), task_id=entry.task.id, task_name=entry.task.name)
            )
        return True

    def run_now(self, entry: TaskEntry, claim_key: str | None = None) -> Run | None:
        """Start a manual run, under the same overlap rule as a scheduled one.

        With replicas, `claim_key` (the request's id) makes it run on one replica only."""
        if self.stopping:
            raise SchedulerNotRunningError(
                f"Cannot run {entry.task.name!r} now: the app is shutting down"
            )
        now = self.clock.now()
        if len(entry.runs) >= entry.task.max_concurrent_runs:
            self._skip(entry, now, SkipReason.OVERLAP, 1, RunKind.MANUAL)
            return None
        run = self._start_run(entry, now, RunKind.MANUAL)
        run.claim_key = claim_key
        return run

    async def drain(self, grace: float) -> None:
        """Give running runs (and worker threads of runs that ended) `grace` seconds of
        the clock, then cancel the runs left; threads cannot be cancelled and are left."""
        pending = [run.task for run in self.active_runs if run.task is not None]
        if not pending and not self.overrunning:
            return
        threads: asyncio.Task[Any] = asyncio.ensure_future(self.threads_done.wait())
        await _wait_or_deadline(self.clock, [*pending, threads], grace)
        threads.cancel()
        left = [task for task in pending if not task.done()]
        if left:
            logger.warning(
                "Shutdown: cancelling %d run(s) still going after the %.3g s grace period",
                len(left),
                grace,
            )
            for task in left:
                task.cancel("shutdown")
            await asyncio.wait(left, timeout=5.0)
        if self.overrunning:
            logger.warning(
                "Shutdown: %d worker thread(s) still running after the %.3g s grace period; "
                "Python cannot stop a thread, so they are left to finish on their own",
                self.overrunning,
                grace,
            )

    def run_once(self, entry: TaskEntry) -> Run:
        """Run a start-up or shut-down task now; it is finished afterwards."""
        entry.finished = True
        return self._start_run(entry, self.clock.now(), RunKind.SCHEDULE)

    def cancel_runs(self, entry: TaskEntry) -> int:
        count = 0
        for run in list(entry.runs):
            if run.task is not None and not run.task.done():
                run.cancelled_by_user = True
                run.task.cancel("cancelled by request")
                count += 1
        return count

    def snapshot(self, entry: TaskEntry) -> TaskSnapshot:
        return entry.snapshot()

    def upcoming(self, entry: TaskEntry, count: int) -> list[datetime]:
        if entry.timeline is None or entry.finished:
            return []
        return entry.timeline.upcoming(count)


async def _wait_or_deadline(clock: Clock, tasks: list[asyncio.Task[Any]], grace: float) -> None:
    """Wait until every task is done or `grace` seconds of the clock have passed."""
    loop = asyncio.get_running_loop()
    deadline_passed: asyncio.Future[None] = loop.create_future()

    def end_grace() -> None:
        if not deadline_passed.done():
            deadline_passed.set_result(None)

    timer = clock.call_at(grace_deadline(clock, grace), end_grace)
    everything: asyncio.Future[Any] = asyncio.ensure_future(asyncio.wait(tasks))
    try:
        await asyncio.wait([everything, deadline_passed], return_when=asyncio.FIRST_COMPLETED)
    finally:
        timer.cancel()
        everything.cancel()


def grace_deadline(clock: Clock, grace: float) -> datetime:
    """The instant a shutdown grace period ends."""
    return clock.now() + timedelta(seconds=max(0.0, grace))
