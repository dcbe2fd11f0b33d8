"""Serving an app: one serve() from start to stop (store, scheduler, watch, lifespan,
start-up and shut-down tasks, the ordered shutdown), and the shutdown requests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from aioclock_core._bus import EventBus, RunEvents
from aioclock_core._clock import Clock
from aioclock_core._delivery import RunDelivery
from aioclock_core._di import bind_arguments, bind_dependencies, uses_dependencies
from aioclock_core._entry import TaskEntry
from aioclock_core._processes import WarmWhenIdle, open_pool
from aioclock_core._recording import close_store, open_store, record_into_store
from aioclock_core._scheduler import Scheduler
from aioclock_core._shutdown import ShutdownRequests
from aioclock_core._trigger_kinds import Triggers
from aioclock_core._watchdog import LoopWatchdog, watch_scheduler
from aioclock_core.coordination import ControlCommand, Coordinator
from aioclock_core.events import (
    Event,
    SchedulerStarted,
    SchedulerStopped,
    SchedulerStopping,
    TaskPaused,
)
from aioclock_core.group import is_async_function
from aioclock_core.logs import install_run_context
from aioclock_core.runs import RunSink
from aioclock_core.stores.base import Store, TaskRecord
from aioclock_core.task import Task, check_seconds

if TYPE_CHECKING:
    import anyio
    from fast_depends import Provider

    from aioclock_core.app import AioClock

logger = logging.getLogger("aioclock")

START_UP_AND_SHUT_DOWN = frozenset({Triggers.ON_START_UP, Triggers.ON_SHUT_DOWN})
"""Trigger types run around the schedule (before and after it), not by it."""


class ServingMixin:
    """serve() and what it runs, and the shutdown requests; `AioClock` holds the
    configuration these read (set in its constructor)."""

    lifespan: Callable[[AioClock], Any] | None
    name: str
    clock: Clock
    loop_block_threshold: float | None
    store: Store
    resume_schedules: bool
    replica: str | None
    coordinator: Coordinator | None
    interval_origin: datetime | None
    claim_margin: float
    pause_gc_in_bursts: bool
    freeze_gc_at_start: bool
    jitter_source: random.Random | None
    process_pool_size: int | None
    _limiter: anyio.CapacityLimiter | None
    _shutdown_grace: float
    _bus: EventBus
    _scheduler: Scheduler | None
    _watchdog: LoopWatchdog | None
    _run_sinks: list[RunSink]
    _shutdown_entries: list[TaskEntry]
    _loop: asyncio.AbstractEventLoop | None
    _shutdown: ShutdownRequests | None
    _task_records: dict[UUID, TaskRecord]
    _started: asyncio.Event
    _stopped: asyncio.Event

    if TYPE_CHECKING:  # defined by AioClock and ControlMixin

        @property
        def tasks(self) -> list[Task]: ...

        @property
        def _provider(self) -> Provider: ...

        async def apply_remote_command(self, command: ControlCommand) -> None: ...

    @property
    def is_running(self) -> bool:
        """Whether serve() is between start-up and stop."""
        return self._scheduler is not None and not self._stopped.is_set()

    async def wait_started(self) -> None:
        """Wait until serve() has entered the lifespan and planned every task."""
        await self._started.wait()

    def _bind(self, task: Task) -> TaskEntry:
        # Only an app that uses Depends pays for importing fast-depends.
        uses = task.injects if task.injects is not None else uses_dependencies(task.func)
        is_async = task.is_async if task.is_async is not None else is_async_function(task.func)
        executor = task.executor or ("loop" if is_async else "thread")
        if executor == "process":
            call = task.func  # dependencies are resolved here, the body runs elsewhere
            arguments = bind_arguments(task.func, self._provider) if uses else None
        else:
            call = bind_dependencies(task.func, self._provider) if uses else task.func
            arguments = None
        return TaskEntry(
            task=task,
            call=call,
            is_async=is_async,
            limiter=task.limiter or self._limiter,
            executor=executor,
            arguments=arguments,
            label=f"aioclock:{task.name}",
        )

    @property
    def shutdown_grace(self) -> float:
        """Seconds running runs get to finish when serve() is cancelled."""
        return self._shutdown_grace

    async def serve(self, *, paused: bool = False) -> None:
        """Run the app until every trigger is exhausted or shutdown is asked for.

        With `paused=True` every task starts paused (before any firing, even an
        immediate one) until resumed through the control API.

        Enters the lifespan, runs start-up tasks, dispatches every task, and on the way
        out gives running runs a grace period, cancels the rest, runs shut-down tasks and
        always exits the lifespan. Cancelling serve() shuts down the same way (with
        `shutdown_grace`), then re-raises the cancellation.
        """
        if self._scheduler is not None and not self._stopped.is_set():
            raise RuntimeError("This app is already serving; one serve() at a time")
        install_run_context()
        self._loop = asyncio.get_running_loop()
        if self._stopped.is_set():  # served before: start afresh
            self._started = asyncio.Event()
            self._stopped = asyncio.Event()
        self._shutdown = requests = ShutdownRequests(self._loop, self.clock, self._shutdown_grace)
        entries = [self._bind(task) for task in self.tasks]
        startup = [e for e in entries if e.task.trigger.type_ == Triggers.ON_START_UP]
        self._shutdown_entries = shutdown = [
            e for e in entries if e.task.trigger.type_ == Triggers.ON_SHUT_DOWN
        ]
        delivery = RunDelivery(self._loop)
        scheduler = Scheduler(
            entries,
            self.clock,
            self._bus,
            coordinator=self.coordinator,
            interval_origin=self.interval_origin,
            claim_margin=self.claim_margin,
            delivery=delivery,
            replica=self.replica,
            jitter_source=self.jitter_source,
        )
        scheduler.collector.pause_in_bursts = self.pause_gc_in_bursts
        scheduler.collector.freeze_at_start = self.freeze_gc_at_start
        pool = open_pool(entries, self.process_pool_size)
        if self.replica and hasattr(self.store, "replica"):
            self.store.replica = self.replica  # the name the coordinator claims under
        restored = await open_store(
            self.store, self.name, self.clock.now(), entries, self.resume_schedules
        )
        self._task_records = restored.records
        recorder, store_sink = record_into_store(self._bus, self.store, restored.records)
        self._scheduler = scheduler
        self._watchdog = watchdog = self._make_watchdog(scheduler)
        # The store first (history has a run before anyone is told of it), the watch last.
        for sink in (store_sink, RunEvents(self._bus), *self._run_sinks, watchdog):
            if sink is not None:
                delivery.add(sink)
        self._bus.on_change = delivery.refresh  # someone (un)subscribed to run events
        if paused:
            for entry in entries:
                scheduler.pause(entry, session_only=True)
        if restored.paused or paused:
            reason = (
                "all of them for this session (paused=True)"
                if paused
                else f"{len(restored.paused)} paused by a user in an earlier session"
            )
            logger.info(
                "%d of %d tasks start paused: %s",
                sum(entry.paused for entry in entries),
                len(entries),
                reason,
            )
        if self.coordinator is not None:
            await self.coordinator.start(self.name, self.apply_remote_command, self.tasks)
        cancelled = False
        grace = self._shutdown_grace
        try:
            async with self._enter_lifespan():
                try:
                    await self._run_all_once(scheduler, startup)
                    scheduler.start(
                        skip={
                            e.task.id
                            for e in entries
                            if e.task.trigger.type_ in START_UP_AND_SHUT_DOWN
                        },
                        resume=restored.resume,
                    )
                    if watchdog is not None:
                        watchdog.start()
                    if pool is not None:  # not before the first firings are out
                        processes = sum(entry.executor == "process" for entry in entries)
                        delivery.add(WarmWhenIdle(pool, processes))
                    self._publish(SchedulerStarted(at=self.clock.now(), task_count=len(entries)))
                    for entry in restored.paused:  # paused in a previous life
                        self._publish(TaskPaused(self.clock.now(), entry.task.id, entry.task.name))
                    self._started.set()
                    grace = await self._wait_for_end(scheduler)
                except asyncio.CancelledError:
                    cancelled = True
                finally:
                    await self._stop_runs(scheduler, grace, requests)
                    if watchdog is not None:
                        watchdog.stop()
                    async with requests.bounded("the OnShutDown tasks"):
                        await self._run_all_once(scheduler, shutdown)
        finally:
            delivery.flush()
            self._publish(SchedulerStopped(at=self.clock.now()))
            self._bus.hand_over()  # the loop may stop before the next hand-over turn
            recorder.close()
            if self.coordinator is not None:
                try:
                    await self.coordinator.stop()
                except Exception:
                    logger.exception("Stopping the coordinator failed")
            await close_store(self.store)
            if pool is not None:
                await pool.close()
            self._stopped.set()
            self._started.set()
        if cancelled:
            raise asyncio.CancelledError

    async def _wait_for_end(self, scheduler: Scheduler) -> float:
        assert self._shutdown is not None
        request = self._shutdown.graceful
        idle: asyncio.Future[Any] = asyncio.ensure_future(scheduler.idle.wait())
        try:
            await asyncio.wait([idle, request], return_when=asyncio.FIRST_COMPLETED)
        finally:
            idle.cancel()
        return request.result() if request.done() else 0.0

    @contextlib.asynccontextmanager
    async def _enter_lifespan(self) -> AsyncIterator[None]:
        if self.lifespan is None:
            yield
            return
        factory = self.lifespan
        if uses_dependencies(factory):
            factory = bind_dependencies(factory, self._provider, cast_result=False)
        context = factory(cast("AioClock", self))  # the mixin is always an AioClock
        if hasattr(context, "__aenter__"):
            assert self._shutdown is not None
            async with self._shutdown.entered(context, "the lifespan exit"):
                yield
        elif hasattr(context, "__enter__"):
            with context:
                yield
        else:
            raise TypeError(
                f"lifespan must return a context manager (decorate it with "
                f"@asynccontextmanager or @contextmanager), got {type(context).__name__}"
            )

    async def _run_all_once(self, scheduler: Scheduler, entries: list[TaskEntry]) -> None:
        if not entries:
            return
        runs = [scheduler.run_once(entry) for entry in entries]
        tasks = [run.task for run in runs if run.task is not None]
        try:
            await asyncio.wait(tasks)
        finally:  # cut short (a hurried shutdown): the runs end as cancelled
            left = [task for task in tasks if not task.done()]
            for task in left:
                task.cancel("shutdown")
            if left:
                await asyncio.wait(left, timeout=5.0)

    async def _stop_runs(
        self, scheduler: Scheduler, grace: float, requests: ShutdownRequests
    ) -> None:
        scheduler.stop_triggers()
        self._publish(SchedulerStopping(at=self.clock.now(), grace=grace))
        async with requests.bounded(None, step=0.0):  # a second request cuts the grace
            await scheduler.drain(grace)
        if requests.hurried.done():
            await scheduler.drain(0.0)

    async def shutdown(self, grace: float | None = None) -> None:
        """Stop gracefully: no new firings, running runs get `grace` seconds, then
        cancellation, shut-down tasks, lifespan exit. Returns once serve() has stopped
        (at once if called from inside a run, which would otherwise wait for itself).
        A second call while stopping hurries the stop (see `request_shutdown`)."""
        self.request_shutdown(grace)
        from aioclock_core.logs import current_run

        if current_run() is None:
            await self._stopped.wait()

    def request_shutdown(self, grace: float | None = None) -> None:
        """Ask serve() to stop (see `shutdown`) without waiting; call on the loop.

        A second request while stopping hurries the stop: running runs are cancelled at
        once, and the OnShutDown tasks and the lifespan exit still run, each cancelled
        if it takes longer than 5 s."""
        check_seconds(grace or None, "grace", "shutdown()")
        if self._shutdown is not None and not self._stopped.is_set():
            self._shutdown.request(grace)

    def _publish(self, event: Event) -> None:
        if self._bus.active:
            self._bus.publish(event)

    def _make_watchdog(self, scheduler: Scheduler) -> LoopWatchdog | None:
        if self.loop_block_threshold is None:
            return None
        return watch_scheduler(self.loop_block_threshold, scheduler, self._publish)
