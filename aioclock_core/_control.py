"""Control API of a serving app: pause, resume, run now, cancel, shut down, state snapshots."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID, uuid4

from aioclock_core._entry import TaskEntry
from aioclock_core.coordination import CommandKind, ControlCommand, Coordinator
from aioclock_core.exceptions import SchedulerNotRunningError
from aioclock_core.state import TaskSnapshot

if TYPE_CHECKING:
    from aioclock_core._scheduler import Scheduler

T = TypeVar("T")
TaskRef = UUID | str
"""A task is named by its id (UUID or its string form) or by its name."""


class ControlMixin:
    """Async control methods; call them on the scheduler's event loop (from a task, a
    lifespan, or a web handler on the same loop). Other threads use `app.threadsafe`."""

    _scheduler: Scheduler | None
    _loop: asyncio.AbstractEventLoop | None
    _shutdown_grace: float
    _stopped: asyncio.Event
    coordinator: Coordinator | None

    async def _share(self, kind: CommandKind, task: UUID | None, request: UUID) -> None:
        """Tell the other replicas about a local control call (no-op without replicas)."""
        if self.coordinator is not None:
            await self.coordinator.broadcast(
                ControlCommand(kind, task, request, self.coordinator.replica)
            )

    async def apply_remote_command(self, command: ControlCommand) -> None:
        """Apply a control call that another replica or an attached console made."""
        scheduler = self._scheduler
        if scheduler is None:
            return
        if command.kind is CommandKind.PAUSE_ALL:
            for entry in list(scheduler.entries.values()):
                scheduler.pause(entry)
            return
        if command.kind is CommandKind.RESUME_ALL:
            for entry in list(scheduler.entries.values()):
                scheduler.resume(entry)
            return
        target = scheduler.entries.get(command.task_id) if command.task_id else None
        if target is None:
            return
        if command.kind is CommandKind.PAUSE:
            scheduler.pause(target)
        elif command.kind is CommandKind.RESUME:
            scheduler.resume(target)
        elif command.kind is CommandKind.RUN_NOW:
            scheduler.run_now(target, claim_key=str(command.request_id))

    def _require_scheduler(self, reading: bool = False) -> Scheduler:
        """The running scheduler (or, for reads, the last one, even after it stopped)."""
        if self._scheduler is None or (self._stopped.is_set() and not reading):
            raise SchedulerNotRunningError(
                "The app is not serving: start it with `await app.serve()` before "
                "pausing, resuming or running tasks"
            )
        return self._scheduler

    def _entry(self, task: TaskRef) -> TaskEntry:
        return self._require_scheduler().find(task)

    async def pause(self, task: TaskRef) -> bool:
        """Pause a task: its firings are skipped (and reported) until resumed.

        Returns False if it was already paused. With replicas, all of them pause it."""
        entry = self._entry(task)
        changed = self._require_scheduler().pause(entry)
        await self._share(CommandKind.PAUSE, entry.task.id, uuid4())
        return changed

    async def resume(self, task: TaskRef) -> bool:
        """Resume a paused task. Returns False if it was not paused."""
        entry = self._entry(task)
        changed = self._require_scheduler().resume(entry)
        await self._share(CommandKind.RESUME, entry.task.id, uuid4())
        return changed

    async def pause_all(self) -> int:
        """Pause every task; returns how many were not paused before."""
        scheduler = self._require_scheduler()
        changed = sum(scheduler.pause(entry) for entry in list(scheduler.entries.values()))
        await self._share(CommandKind.PAUSE_ALL, None, uuid4())
        return changed

    async def resume_all(self) -> int:
        """Resume every paused task; returns how many were paused."""
        scheduler = self._require_scheduler()
        changed = sum(scheduler.resume(entry) for entry in list(scheduler.entries.values()))
        await self._share(CommandKind.RESUME_ALL, None, uuid4())
        return changed

    async def run_now(self, task: TaskRef) -> UUID | None:
        """Start a run now, through the same path as a scheduled run (DI, timeout, events).

        The overlap rule applies: if the task already has `max_concurrent_runs` runs
        going, the request is skipped (a RunSkipped event says so) and None is returned.
        A paused task can still be run by hand. Returns the new run's id. With
        replicas, the request is shared and exactly one replica runs it.
        """
        entry = self._entry(task)
        request = uuid4()
        claim_key = str(request) if self.coordinator is not None else None
        run = self._require_scheduler().run_now(entry, claim_key=claim_key)
        await self._share(CommandKind.RUN_NOW, entry.task.id, request)
        return None if run is None else run.run_id

    async def cancel_run(self, task: TaskRef) -> int:
        """Cancel the task's running runs (outcome: cancelled); returns how many."""
        return self._require_scheduler().cancel_runs(self._entry(task))

    def snapshot(self, task: TaskRef) -> TaskSnapshot:
        """The task's state now (or when serving stopped). Safe from any thread."""
        return self._require_scheduler(reading=True).find(task).snapshot()

    def snapshots(self) -> list[TaskSnapshot]:
        """The state of every task, in registration order."""
        scheduler = self._require_scheduler(reading=True)
        return [entry.snapshot() for entry in list(scheduler.entries.values())]

    @property
    def overrunning_threads(self) -> int:
        """Worker threads still running for runs that already ended (timed out or
        cancelled), in every task (0 when not serving). Safe from any thread."""
        scheduler = self._scheduler
        return 0 if scheduler is None else scheduler.overrunning

    def next_fire_times(self, tasks: Iterable[UUID] | None = None) -> dict[UUID, datetime | None]:
        """The next firing (None: its trigger is done) of every task, or of the task ids
        given; cheaper than `snapshots()` for a view that refreshes thousands of
        countdowns. Safe from any thread (a firing under way may not show yet)."""
        entries = self._require_scheduler(reading=True).entries
        if tasks is None:
            return {task_id: entry.next_fire_time for task_id, entry in entries.items()}
        return {task_id: entries[task_id].next_fire_time for task_id in tasks if task_id in entries}

    def upcoming(self, task: TaskRef, count: int = 5) -> list[datetime]:
        """The task's next `count` firing instants (UTC), without consuming them."""
        scheduler = self._require_scheduler(reading=True)
        return scheduler.upcoming(scheduler.find(task), count)

    @property
    def threadsafe(self) -> ThreadSafeControl:
        """The control API for callers on other threads (a console, a signal handler)."""
        return ThreadSafeControl(self)


class ThreadSafeControl:
    """Control calls from another thread: each returns a `concurrent.futures.Future`.

    Wait on a future with a timeout (`future.result(timeout=2)`) or add a done
    callback; never wait without one from a thread the scheduler may need.
    """

    def __init__(self, app: ControlMixin) -> None:
        self._app = app

    def _submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        loop = self._app._loop
        if (
            loop is None
            or loop.is_closed()
            or self._app._scheduler is None
            or (self._app._stopped.is_set())
        ):
            coroutine.close()
            raise SchedulerNotRunningError(
                "The app is not serving, so there is nothing to control yet"
            )
        return asyncio.run_coroutine_threadsafe(coroutine, loop)

    def pause(self, task: TaskRef) -> concurrent.futures.Future[bool]:
        return self._submit(self._app.pause(task))

    def resume(self, task: TaskRef) -> concurrent.futures.Future[bool]:
        return self._submit(self._app.resume(task))

    def pause_all(self) -> concurrent.futures.Future[int]:
        return self._submit(self._app.pause_all())

    def resume_all(self) -> concurrent.futures.Future[int]:
        return self._submit(self._app.resume_all())

    def run_now(self, task: TaskRef) -> concurrent.futures.Future[UUID | None]:
        return self._submit(self._app.run_now(task))

    def cancel_run(self, task: TaskRef) -> concurrent.futures.Future[int]:
        return self._submit(self._app.cancel_run(task))

    def snapshot(self, task: TaskRef) -> TaskSnapshot:
        """The task's state now (see `AioClock.snapshot`)."""
        return self._app.snapshot(task)

    def snapshots(self) -> list[TaskSnapshot]:
        """The state of every task (see `AioClock.snapshots`)."""
        return self._app.snapshots()

    def shutdown(self, grace: float | None = None) -> concurrent.futures.Future[None]:
        """Ask for a graceful shutdown; the future is done when serve() has stopped."""
        return self._submit(self._app.shutdown(grace))  # type: ignore[attr-defined]
