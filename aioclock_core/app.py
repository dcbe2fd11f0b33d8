"""AioClock: the application object; wires tasks, lifespan, scheduler, events and control."""

from __future__ import annotations

import asyncio
import logging
import random
import weakref
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from aioclock_core._bus import EventBus, Subscription
from aioclock_core._clock import SYSTEM_CLOCK, Clock
from aioclock_core._control import ControlMixin
from aioclock_core._di import (
    new_provider,
)
from aioclock_core._entry import TaskEntry
from aioclock_core._scheduler import Scheduler
from aioclock_core._serving import START_UP_AND_SHUT_DOWN, ServingMixin
from aioclock_core._shutdown import ShutdownRequests
from aioclock_core._trigger_kinds import LONGEST_SECONDS, LONGEST_TEXT, Triggers
from aioclock_core._watchdog import LoopWatchdog
from aioclock_core.coordination import Coordinator
from aioclock_core.events import (
    Event,
    TaskAdded,
)
from aioclock_core.exceptions import DuplicateTaskError
from aioclock_core.group import Group
from aioclock_core.runs import RunSink
from aioclock_core.stores.base import Store, TaskRecord
from aioclock_core.stores.memory import MemoryStore
from aioclock_core.task import MisfirePolicy, Task, check_seconds

if TYPE_CHECKING:
    import anyio
    from fast_depends import Provider

    from aioclock_core.background import AppThread
    from aioclock_core.triggers import BaseTrigger

__all__ = ["AioClock"]

logger = logging.getLogger("aioclock")
F = TypeVar("F", bound=Callable[..., Any])
Lifespan = Callable[["AioClock"], Any]


_APPS: weakref.WeakSet[AioClock] = weakref.WeakSet()
"""Every app alive, to find the task (and its dependency provider) of a bare function."""


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def app_of(task: Task) -> AioClock | None:
    """The live app `task` is registered in, if any."""
    for app in list(_APPS):
        if app._task_ids.get(task.id) is task:
            return app
    return None


def find_task_of(func: Callable[..., Any]) -> Task | None:
    """The task registered for `func` in any live app (the most recent registration)."""
    found = None
    for app in list(_APPS):
        for task in app.tasks:
            if task.func is func:
                found = task
    return found


class AioClock(ControlMixin, ServingMixin):
    """An app of periodic tasks.

    Args:
        lifespan: `f(app)` returning an async or sync context manager: code before
            `yield` runs before any task, code after it once every run has ended.
        limiter: Bounds the worker threads of sync tasks (groups may set their own).
        name: Shown by the console and in logs (default "aioclock").
        clock: Where time comes from (default: the system clock; tests pass a FakeClock).
        loop_block_threshold: Seconds the event loop may stall before a LoopBlocked event
            and a warning name the run that blocked it; None switches the watch off.
        shutdown_grace: Seconds running runs get to finish when serve() is cancelled.
        store: Where run history and task state live (default: a MemoryStore). With a
            persistent store, paused tasks stay paused across restarts and schedules
            continue from their last firing.
        resume_schedules: Continue Every/At/Cron timelines from the last firing the
            store knows (default True); False starts every timeline afresh.
        replica: Name of this process among replicas, recorded with each run
            (default: the coordinator's replica name, if any).
        coordinator: Shares firings and control among replicas (e.g. a Redis
            coordinator): each firing runs on exactly one replica.
        interval_origin: Every grids are origin + k·period instead of starting at
            this process's start (default with a coordinator: the Unix epoch, so all
            replicas share the same instants).
        claim_margin: Seconds a run's claim outlives its timeout (default 300).
        pause_gc_in_bursts: When 256 or more firings fall due at one instant, hold the
            cyclic garbage collector until their runs end (0.5 s at most), so it does not
            promote and rescan thousands of short-lived objects mid-burst (it halves the
            CPU per firing of a 10,000-task herd). Off if your process must never defer
            a collection; never re-enables a collector you disabled yourself.
        freeze_gc_at_start: Once serve() has planned every task, move the objects that
            exist then (modules, tasks, triggers, timelines, yours too) into the cyclic
            collector's permanent generation (`gc.freeze()`) until serve() ends
            (`gc.unfreeze()`), so that collections while serving scan only what serving
            creates: at 10,000 tasks a full collection otherwise stalls the loop for
            130-190 ms every few seconds. A reference cycle that was already garbage at
            that moment is freed only after serve() ends. Off to leave the collector
            alone; nothing is frozen if you disabled the collector yourself.
        jitter_source: Where tasks' `jitter` draws its delays (default: a fresh
            `random.Random()`; `random.Random(seed)` makes them repeatable).
        process_pool_size: Worker processes that run `executor="process"` bodies at once
            (default: the number of cores); started when serve() starts, stopped when
            it ends.
    """

    def __init__(
        self,
        *,
        lifespan: Lifespan | None = None,
        limiter: anyio.CapacityLimiter | None = None,
        name: str | None = None,
        clock: Clock | None = None,
        loop_block_threshold: float | None = 0.1,
        shutdown_grace: float = 10.0,
        store: Store | None = None,
        resume_schedules: bool = True,
        replica: str | None = None,
        coordinator: Coordinator | None = None,
        interval_origin: datetime | None = None,
        claim_margin: float = 300.0,
        pause_gc_in_bursts: bool = True,
        freeze_gc_at_start: bool = True,
        jitter_source: random.Random | None = None,
        process_pool_size: int | None = None,
    ) -> None:
        check_seconds(loop_block_threshold, "loop_block_threshold", "AioClock")
        if process_pool_size is not None and (
            isinstance(process_pool_size, bool)
            or not isinstance(process_pool_size, int)
            or process_pool_size < 1
        ):
            raise ValueError(
                f"AioClock: process_pool_size must be a whole number >= 1 (or None: one "
                f"worker per core), got {process_pool_size!r}"
            )
        self.process_pool_size = process_pool_size
        if (
            isinstance(shutdown_grace, bool)
            or not isinstance(shutdown_grace, (int, float))
            or not 0 <= shutdown_grace <= LONGEST_SECONDS
        ):
            raise ValueError(
                f"AioClock: shutdown_grace must be seconds from 0 to {LONGEST_TEXT}, "
                f"got {shutdown_grace!r}"
            )
        self.lifespan = lifespan
        self.name = name or "aioclock"
        self.clock: Clock = clock or SYSTEM_CLOCK
        self.loop_block_threshold = loop_block_threshold
        self._shutdown_grace = float(shutdown_grace)
        if store is not None and not isinstance(store, Store):
            raise TypeError(
                f"AioClock(store=...) takes a Store such as MemoryStore() or "
                f"SQLiteStore('history.sqlite3'), got {type(store).__name__}"
            )
        self.store: Store = store or MemoryStore()
        self.store_is_default = store is None
        """True while the app uses the MemoryStore it made itself (a host may replace it)."""
        self.resume_schedules = resume_schedules
        self.coordinator = coordinator
        self.replica = replica or (coordinator.replica if coordinator is not None else None)
        if interval_origin is None and coordinator is not None:
            interval_origin = datetime(1970, 1, 1, tzinfo=timezone.utc)
        if interval_origin is not None and interval_origin.tzinfo is None:
            raise ValueError(
                f"AioClock(interval_origin={interval_origin!r}) needs an aware datetime "
                "(add tzinfo=timezone.utc)"
            )
        self.interval_origin = interval_origin
        check_seconds(claim_margin, "claim_margin", "AioClock")
        self.claim_margin = float(claim_margin)
        self.pause_gc_in_bursts = pause_gc_in_bursts
        self.freeze_gc_at_start = freeze_gc_at_start
        if jitter_source is not None and not isinstance(jitter_source, random.Random):
            raise TypeError(
                "AioClock(jitter_source=...) takes a random.Random (e.g. random.Random(42) "
                f"for repeatable tests), got {type(jitter_source).__name__}"
            )
        self.jitter_source = jitter_source
        self._limiter = limiter
        self._app_group = Group(limiter=limiter)
        self._task_ids: dict[UUID, Task] = {}
        self._watchdog: LoopWatchdog | None = None
        self._provider_of_tasks = self._get_provider  # one bound method for every task
        _APPS.add(self)
        self._app_group._on_add.append(self._claim)
        self._groups: list[Group] = []
        self._provider_instance: Provider | None = None
        self._bus = EventBus()
        self._scheduler: Scheduler | None = None
        self._run_sinks: list[RunSink] = []
        self._shutdown_entries: list[TaskEntry] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._shutdown: ShutdownRequests | None = None
        self._task_records: dict[UUID, TaskRecord] = {}
        self._started = asyncio.Event()
        self._stopped = asyncio.Event()

    # ----- registration ----------------------------------------------------------
    def task(
        self,
        *,
        trigger: BaseTrigger[Any],
        timeout: float | None = None,
        name: str | None = None,
        max_concurrent_runs: int = 1,
        misfire_grace_time: float | None = None,
        misfire: MisfirePolicy = "latest",
        retries: int | None = None,
        retry_delay: float | None = None,
        retry_backoff: float | None = None,
        retry_on: tuple[type[BaseException], ...] | type[BaseException] | None = None,
        jitter: float | None = None,
        start_at: datetime | None = None,
        end_at: datetime | None = None,
        executor: str | None = None,
    ) -> Callable[[F], F]:
        """Register the decorated function; see `Group.task` for the arguments. While the
        app serves, the task is planned at once (and a `TaskAdded` event says so)."""
        return self._app_group.task(
            trigger=trigger,
            timeout=timeout,
            name=name,
            max_concurrent_runs=max_concurrent_runs,
            misfire_grace_time=misfire_grace_time,
            misfire=misfire,
            retries=retries,
            retry_delay=retry_delay,
            retry_backoff=retry_backoff,
            retry_on=retry_on,
            jitter=jitter,
            start_at=start_at,
            end_at=end_at,
            executor=executor,
        )

    def include_group(self, group: Group) -> None:
        """Add a group's tasks (and any it registers later) to the app."""
        if not isinstance(group, Group):
            raise TypeError(f"include_group() takes a Group, got {type(group).__name__}")
        if group in self._groups:
            return
        batch: dict[UUID, Task] = {}
        for task in group.tasks:
            self._check_unique(task, batch)
            batch[task.id] = task
        for task in group.tasks:
            self._claim(task)
        group._on_add.append(self._claim)
        self._groups.append(group)

    def _check_unique(self, task: Task, batch: dict[UUID, Task] | None = None) -> None:
        existing = self._task_ids.get(task.id) or (batch or {}).get(task.id)
        if existing is not None:
            raise DuplicateTaskError(
                f"Two tasks are named {task.name!r} ({existing.func!r} and {task.func!r}); "
                "task names must be unique because ids derive from them. Give one a "
                "distinct name: @app.task(trigger=..., name='...')"
            )

    def _claim(self, task: Task) -> None:
        """Check that `task`'s name is free in this app, then take it (and plan it, if the
        app is serving)."""
        self._check_unique(task)
        self._task_ids[task.id] = task
        task.provider = self._provider_of_tasks
        loop = self._loop
        if self.is_running and loop is not None:
            if _running_loop() is loop:
                self._add_while_serving(task)
            else:  # registered from another thread: the scheduler's loop plans it
                loop.call_soon_threadsafe(self._add_while_serving, task)

    def _add_while_serving(self, task: Task) -> None:
        scheduler = self._scheduler
        if scheduler is None or self._stopped.is_set() or self._task_ids.get(task.id) is not task:
            return
        entry = self._bind(task)
        kind = task.trigger.type_
        if kind == Triggers.ON_SHUT_DOWN:
            self._shutdown_entries.append(entry)
        elif kind == Triggers.ON_START_UP:
            scheduler.entries[task.id] = entry
            scheduler.run_once(entry)  # the start is now, for a task that comes late
        else:
            scheduler.add(entry)
        self._publish(
            TaskAdded(
                self.clock.now(),
                task.id,
                task.name,
                task.group,
                task.trigger.describe(),
                task.timeout,
            )
        )

    def _forget(self, task: Task) -> None:
        """Take a removed task out of the app (and its group)."""
        self._task_ids.pop(task.id, None)
        for group in (self._app_group, *self._groups):
            group._remove(task)

    @property
    def tasks(self) -> list[Task]:
        """Every registered task: the app's own, then each group's."""
        return [*self._app_group.tasks, *(t for g in self._groups for t in g.tasks)]

    @property
    def _tasks(self) -> list[Task]:
        """aioclock 0.3 name for `tasks`."""
        return self.tasks

    def _get_tasks(self, exclude_type: Collection[Triggers] | None = None) -> list[Task]:
        """Kept for aioclock compatibility: `tasks` but those whose trigger type is in
        `exclude_type` (default: the start-up and shut-down tasks)."""
        if exclude_type is None:
            exclude_type = START_UP_AND_SHUT_DOWN
        return [task for task in self.tasks if task.trigger.type_ not in exclude_type]

    @property
    def _provider(self) -> Provider:
        return self._get_provider()

    def _get_provider(self) -> Provider:
        if self._provider_instance is None:
            self._provider_instance = new_provider()
        return self._provider_instance

    @property
    def dependencies(self) -> Provider:
        """The dependency provider used to inject this app's tasks."""
        return self._provider

    def override_dependencies(
        self, original: Callable[..., Any], override: Callable[..., Any]
    ) -> None:
        """Use `override` wherever `original` is declared with Depends (tests, environments)."""
        self._provider.override(original, override)

    # ----- events ------------------------------------------------------------------
    def subscribe(
        self,
        callback: Callable[[Sequence[Event]], None],
        *,
        on_loop: bool = False,
        kinds: Iterable[type[Event]] | None = None,
    ) -> Subscription:
        """Receive batches of events; see `aioclock_core.events`.

        By default on the bus's delivery thread; `on_loop=True` calls it on the
        scheduler's loop (it must be fast). `kinds` limits it to some event types, so
        per-firing events are not even built when nobody wants them."""
        return self._bus.subscribe(callback, on_loop=on_loop, kinds=kinds)

    def add_run_sink(self, sink: RunSink) -> Subscription:
        """Receive every run as it starts and ends, as `RunRecord`s in batches, on the
        scheduler's loop (see `aioclock_core.runs.RunSink`): the cheapest way to follow
        thousands of runs a second (a console, an exporter). Register before `serve()`
        or while serving (on the scheduler's loop); `close()` the subscription to stop.

        A sink added while serving gets exactly the records made after this call:
        records still waiting for the end of the loop turn go to the earlier sinks
        first, so a state read right after (`snapshots()`) and the records the sink
        then gets add up (what a control socket's client relies on)."""
        if not isinstance(sink, RunSink):
            raise TypeError(
                f"add_run_sink() takes a RunSink (subclass aioclock_core.runs.RunSink), "
                f"got {type(sink).__name__}"
            )
        self._run_sinks.append(sink)
        if self._scheduler is not None and not self._stopped.is_set():
            self._scheduler.delivery.flush()
            self._scheduler.delivery.add(sink)

        def close() -> None:
            if sink in self._run_sinks:
                self._run_sinks.remove(sink)
            if self._scheduler is not None:
                self._scheduler.delivery.remove(sink)

        return Subscription(close)

    def events(self, max_pending: int = 10_000) -> AsyncIterator[Event]:
        """Iterate events as they happen (on the scheduler's loop)."""
        return self._bus.iterate(max_pending)

    def flush_events(self, timeout: float = 5.0) -> bool:
        """Wait until thread subscribers have received every event published so far."""
        return self._bus.flush(timeout)

    def run_in_thread(
        self, *, paused: bool = False, grace: float | None = None, start_timeout: float = 30.0
    ) -> AppThread:
        """Serve this app on its own event loop in a background thread, beside sync code
        (a Flask or Django process, a plain script)::

            with app.run_in_thread() as control:   # started: every task is planned
                control.run_now("report").result(timeout=5)
                ...                                # your code, on your thread
            # left: stopped gracefully, lifespan exited

        `control` is `app.threadsafe`: each call returns a `concurrent.futures.Future`.
        On leaving the block, running runs get `grace` seconds (default: the app's
        `shutdown_grace`); an error serve() raised is raised there. Without `with`, call
        `start()` and later `stop()` on the returned `AppThread`.
        """
        from aioclock_core.background import AppThread

        return AppThread(self, paused=paused, grace=grace, start_timeout=start_timeout)
