"""Control API of a serving app: pause, resume, run now, cancel, remove and reschedule
tasks, shut down, state snapshots."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload
from uuid import UUID, uuid4

from aioclock_core._entry import TaskEntry
from aioclock_core.coordination import CommandKind, ControlCommand, Coordinator
from aioclock_core.events import TaskRemoved, TaskRescheduled
from aioclock_core.exceptions import SchedulerNotRunningError
from aioclock_core.runs import RunRecord
from aioclock_core.state import TaskSnapshot
from aioclock_core.task import Task, check_trigger

if TYPE_CHECKING:
    from aioclock_core._scheduler import Scheduler
    from aioclock_core.simulation import Simulator
    from aioclock_core.triggers import BaseTrigger

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

    def _entry(self, task: TaskRef, reading: bool = False) -> TaskEntry:
        if not isinstance(task, (UUID, str)):
            raise TypeError(
                f"Name a task by its name or id (a str or UUID), got {task!r} "
                f"({type(task).__name__}): e.g. app.pause('nightly-report') or "
                "app.pause(task.id)"
            )
        return self._require_scheduler(reading).find(task)

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

    @overload
    async def run_now(self, task: TaskRef, *, wait: Literal[False] = False) -> UUID | None: ...

    @overload
    async def run_now(self, task: TaskRef, *, wait: Literal[True]) -> RunRecord | None: ...

    async def run_now(self, task: TaskRef, *, wait: bool = False) -> UUID | RunRecord | None:
        """Start a run now, through the same path as a scheduled run (DI, timeout, events).

        The overlap rule applies: if the task already has `max_concurrent_runs` runs
        going, the request is skipped (a RunSkipped event says so) and None is returned.
        A paused task can still be run by hand. Returns the new run's id, or with
        `wait=True` waits for the run to end and returns its `RunRecord` (outcome,
        `result`, logs). With replicas, the request is shared and exactly one replica
        runs it (waiting then returns None on the replicas that did not).
        """
        entry = self._entry(task)
        request = uuid4()
        claim_key = str(request) if self.coordinator is not None else None
        run = self._require_scheduler().run_now(entry, claim_key=claim_key)
        await self._share(CommandKind.RUN_NOW, entry.task.id, request)
        if run is None:
            return None
        if not wait:
            return run.run_id
        assert run.task is not None
        await asyncio.wait([run.task])
        return run.record

    # ----- tasks while serving ---------------------------------------------------------
    def _forget(self, task: Task) -> None:
        raise NotImplementedError

    async def remove_task(self, task: TaskRef, *, cancel_running: bool = False) -> bool:
        """Remove a task: no more firings or retries (a run going ends on its own unless
        `cancel_running`), gone from `app.tasks`; its history stays. Returns whether a run
        was cancelled. With replicas, each process removes it in its own code."""
        scheduler = self._require_scheduler()
        entry = scheduler.find(task)
        cancelled = scheduler.cancel_runs(entry) > 0 if cancel_running else False
        scheduler.remove(entry)
        self._forget(entry.task)
        if scheduler.bus.active:
            scheduler.bus.publish(
                TaskRemoved(scheduler.clock.now(), entry.task.id, entry.task.name)
            )
        return cancelled

    async def reschedule(self, task: TaskRef, trigger: BaseTrigger[Any]) -> None:
        """Give a task a new trigger and plan it afresh from now (an exhausted task fires
        again). A `TaskRescheduled` event says so."""
        scheduler = self._require_scheduler()
        entry = scheduler.find(task)
        check_trigger(trigger, f"reschedule({entry.task.name!r})")
        if entry.legacy:
            raise ValueError(
                f"reschedule({entry.task.name!r}): its trigger is an aioclock-style custom "
                "trigger that runs its own loop; remove the task and register it anew"
            )
        entry.task.trigger = trigger
        scheduler.reschedule(entry)
        if scheduler.bus.active:
            scheduler.bus.publish(
                TaskRescheduled(
                    scheduler.clock.now(), entry.task.id, entry.task.name, trigger.describe()
                )
            )

    async def cancel_run(self, task: TaskRef) -> int:
        """Cancel the task's running runs (outcome: cancelled); returns how many."""
        return self._require_scheduler().cancel_runs(self._entry(task))

    def snapshot(self, task: TaskRef) -> TaskSnapshot:
        """The task's state now (or when serving stopped). Safe from any thread."""
        return self._entry(task, reading=True).snapshot()

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
        entry = self._entry(task, reading=True)
        return self._require_scheduler(reading=True).upcoming(entry, count)

    def simulator(self, tasks: Iterable[UUID] | None = None) -> Simulator:
        """Copies of the timelines of every task (or of the task ids given) as they stand
        now, to see their firings ahead with `Simulator.run(end)` without moving them.

        Call it on the scheduler's loop (or once serving stopped); `run` may then go on
        any thread, since it only steps the copies."""
        # Loaded on first use: the console asks for it, a plain app never does.
        from aioclock_core.simulation import Simulator, unsimulated_reason

        scheduler = self._require_scheduler(reading=True)
        entries = scheduler.entries
        chosen = entries.values() if tasks is None else [entries[t] for t in tasks if t in entries]
        plans = []
        for entry in chosen:
            reason = unsimulated_reason(entry.task.trigger)
            live = entry.timeline if not entry.finished and reason is None else None
            plans.append((entry.task, None if live is None else live.fork(), reason))
        return Simulator(scheduler.clock.now(), plans)

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

    def run_now(
        self, task: TaskRef, *, wait: bool = False
    ) -> concurrent.futures.Future[UUID | RunRecord | None]:
        """`wait=True`: the future's result is the finished run's `RunRecord`."""
        return self._submit(self._app.run_now(task, wait=wait))  # type: ignore[call-overload]

    def remove_task(
        self, task: TaskRef, *, cancel_running: bool = False
    ) -> concurrent.futures.Future[bool]:
        return self._submit(self._app.remove_task(task, cancel_running=cancel_running))

    def reschedule(
        self, task: TaskRef, trigger: BaseTrigger[Any]
    ) -> concurrent.futures.Future[None]:
        return self._submit(self._app.reschedule(task, trigger))

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
