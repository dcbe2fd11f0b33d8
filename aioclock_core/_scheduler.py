"""Scheduler: one dispatcher over a heap of due times, plus the control API on running tasks."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from aioclock_core._bus import EventBus
from aioclock_core._clock import Clock, TimerHandle
from aioclock_core._collector import CollectorPolicy
from aioclock_core._delivery import RunDelivery
from aioclock_core._entry import Run, TaskEntry
from aioclock_core._runner import execute_run
from aioclock_core._scheduler_control import SchedulerControl
from aioclock_core._timeline import Timeline, has_pure_timeline
from aioclock_core.coordination import Coordinator
from aioclock_core.events import (
    SkipReason,
    TaskScheduled,
    ThreadOverran,
    ThreadReturned,
)
from aioclock_core.exceptions import TaskTimeoutError
from aioclock_core.runs import RunKind, RunRecord

logger = logging.getLogger("aioclock")


_run_id_base = uuid.uuid4().int
_run_counter = itertools.count(1)


_UUID_MASK = (1 << 128) - 1
_new_uuid = object.__new__
_set_slot = object.__setattr__
_UNKNOWN_SAFETY = uuid.SafeUUID.unknown


def new_run_id() -> uuid.UUID:
    """A run id unique across processes: a random 128-bit base (per process) plus a
    counter, cheaper than uuid4() on the path of every firing.

    The UUID's two slots are set directly, as `UUID(int=...)` would set them after
    checking its arguments (which are ours and always valid): 0.63 -> 0.30 us an id,
    about 3 % of a firing in a herd (benchmark: p99 lateness at 10,000 aligned tasks).
    tests/core/test_runs.py checks the id is equal, hashes, prints and pickles as the
    one the constructor makes."""
    run_id: uuid.UUID = _new_uuid(uuid.UUID)
    _set_slot(run_id, "int", (_run_id_base + next(_run_counter)) & _UUID_MASK)
    _set_slot(run_id, "is_safe", _UNKNOWN_SAFETY)
    return run_id


def _as_sequence(planned: TaskEntry | list[TaskEntry]) -> Sequence[TaskEntry]:
    """What `Scheduler._due` holds for an instant, as the tasks planned then."""
    return planned if isinstance(planned, list) else (planned,)


class Scheduler(SchedulerControl):
    """Dispatches the firings of many tasks from one heap and one clock timer.

    A firing costs a heap pop, a trigger computation and, if it runs, one asyncio task.
    Everything here runs on the scheduler's event loop.
    """

    def __init__(
        self,
        entries: Iterable[TaskEntry],
        clock: Clock,
        bus: EventBus,
        coordinator: Coordinator | None = None,
        interval_origin: datetime | None = None,
        claim_margin: float = 300.0,
        delivery: RunDelivery | None = None,
        replica: str | None = None,
        jitter_source: random.Random | None = None,
    ) -> None:
        self.clock = clock
        self.jitter_source = jitter_source or random.Random()
        self.bus = bus
        self.coordinator = coordinator
        self.interval_origin = interval_origin
        self.claim_margin = claim_margin
        self._loop = asyncio.get_running_loop()
        self.collector = CollectorPolicy(self._loop)
        self.delivery = delivery or RunDelivery(self._loop)
        """Where runs go when they start and end (the app's sinks)."""
        self.replica = replica
        self.entries: dict[uuid.UUID, TaskEntry] = {e.task.id: e for e in entries}
        self._by_name = {e.task.name: e for e in self.entries.values()}
        self._heap: list[float] = []
        """The instants (timestamps) tasks are planned to fire at, each once, earliest
        first."""
        self._due: dict[float, TaskEntry | list[TaskEntry]] = {}
        """The tasks planned at each instant of the heap: the one task, or a list of them
        in the order they were planned. Tasks that fire together share one heap item:
        10,000 `Every(1 s)` tasks aligned on the second are one push and one pop a
        second, not 10,000 of each (CPU per firing of that herd on the fake clock 12.0 ->
        9.9 us; benchmark: p99 lateness at 10,000 aligned tasks). An instant of one task
        holds the task itself, not a list of one: 10,000 randomly phased tasks would
        otherwise keep 10,000 lists alive, each a whole period, for the cyclic collector
        to scan (the heap holds plain numbers, which it does not track). A task found at
        an instant that is not its `planned_at` any more was planned again or removed:
        it is passed over."""
        self._timer: TimerHandle | None = None
        self._timer_at: float | None = None
        self._legacy_loops: set[asyncio.Task[None]] = set()
        self._live = 0
        self.stopping = False
        self.idle = asyncio.Event()
        self.runs_done = asyncio.Event()
        self.runs_done.set()
        self._running = 0
        self.overrunning = 0
        """Worker threads still running for runs that already ended (they hold slots)."""
        self.threads_done = asyncio.Event()
        self.threads_done.set()
        self._dispatching = False
        self._started = False
        self._retries: dict[TimerHandle, TaskEntry] = {}
        """Retries waiting for their moment (they keep the app serving)."""

    # ----- lifecycle -------------------------------------------------------------
    def start(
        self,
        skip: frozenset[uuid.UUID] | set[uuid.UUID] = frozenset(),
        resume: dict[uuid.UUID, datetime] | None = None,
    ) -> None:
        """Plan every task's first firing (but those in `skip`) and arm the timer.

        A task in `resume` continues its timeline after that last firing instead of
        starting over: firings missed since then are due at once (coalesced, or missed
        beyond the task's grace time)."""
        resume = resume or {}
        anchor = self.clock.now()
        self._dispatching = True
        for entry in self.entries.values():
            if entry.task.id not in skip:
                self._begin(entry, anchor, resume.get(entry.task.id))
        self._dispatching = False
        self._started = True
        self._check_idle()
        self.collector.freeze()
        self._arm()

    def _begin(self, entry: TaskEntry, anchor: datetime, resume: datetime | None = None) -> None:
        """Give a task its timeline and plan its first firing (or start its legacy loop)."""
        self._live += 1
        if has_pure_timeline(entry.task.trigger):
            entry.timeline = Timeline.of_task(entry.task, anchor, resume, self.interval_origin)
            self._plan(entry)
        else:
            entry.legacy = True
            loop_task = self._loop.create_task(self._legacy_loop(entry))
            self._legacy_loops.add(loop_task)
            loop_task.add_done_callback(self._legacy_loops.discard)

    # ----- tasks added, removed and rescheduled while serving ------------------------
    def add(self, entry: TaskEntry) -> None:
        """Plan a task registered while serving, at once."""
        self.entries[entry.task.id] = entry
        self._by_name[entry.task.name] = entry
        if self._started and not self.stopping:  # before start(), start() plans it
            self._begin(entry, self.clock.now())
            self._check_idle()

    def remove(self, entry: TaskEntry) -> None:
        """No more firings or retries of `entry` (a run going goes on unless cancelled)."""
        self.entries.pop(entry.task.id, None)
        self._by_name.pop(entry.task.name, None)
        entry.planned_at = None  # its place in the heap is stale now
        entry.deferred = False
        for handle, owner in list(self._retries.items()):
            if owner is entry:
                handle.cancel()
                del self._retries[handle]
        self._finish(entry)
        self._arm()

    def reschedule(self, entry: TaskEntry) -> None:
        """Plan `entry` afresh from its (new) trigger, from now."""
        entry.planned_at = None
        entry.deferred = False
        if entry.finished:  # an exhausted task fires again under its new trigger
            entry.finished = False
            self._live += 1
        entry.timeline = Timeline.of_task(entry.task, self.clock.now(), None, self.interval_origin)
        self._plan(entry)
        self._arm()

    def stop_triggers(self) -> None:
        """No firing after this: cancel the timer and the legacy trigger loops."""
        self.stopping = True
        self.collector.thaw()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._heap.clear()
        self._due.clear()
        for loop_task in list(self._legacy_loops):
            loop_task.cancel()
        for handle in self._retries:
            handle.cancel()
        self._retries.clear()

    @property
    def active_runs(self) -> list[Run]:
        return [run for entry in self.entries.values() for run in entry.runs]

    # ----- the heap ------------------------------------------------------------------
    def _plan(self, entry: TaskEntry) -> None:
        """Put the entry's pending firing on the heap (or mark it finished)."""
        timeline = entry.timeline
        assert timeline is not None
        pending = timeline.pending
        if self.bus.wants_plans:
            self.bus.publish(
                TaskScheduled(
                    at=self.clock.now(),
                    task_id=entry.task.id,
                    task_name=entry.task.name,
                    next_fire_time=pending,
                )
            )
        # aioclock's informational field; set through __dict__ to skip pydantic's setattr.
        entry.task.trigger.__dict__["expected_trigger_time"] = pending
        if pending is None:
            if not entry.runs and not timeline.can_restart:
                self._finish(entry)
            return
        due = pending.timestamp()
        if entry.planned_at == due:
            return  # planned twice at one instant: it is in that instant's list already
        entry.planned_at = due  # planned twice: the last one counts
        planned = self._due.get(due)
        if planned is None:
            self._due[due] = entry
            heapq.heappush(self._heap, due)
        elif isinstance(planned, list):
            planned.append(entry)
        else:
            self._due[due] = [planned, entry]
        if not self._dispatching and (self._timer_at is None or due < self._timer_at):
            self._arm()

    def _arm(self) -> None:
        heap = self._heap
        first: TaskEntry | None = None
        while heap and first is None:
            due = heap[0]
            first = self._first_planned(due)
            if first is None:  # every task planned then was planned again or removed
                heapq.heappop(heap)
                del self._due[due]
        if self.stopping or first is None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
                self._timer_at = None
            return
        due = heap[0]
        if self._timer is not None and self._timer_at == due:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = due
        pending = first.next_fire_time
        assert pending is not None
        self._timer = self.clock.call_at(pending, self._on_timer)

    def next_loop_wake(self) -> float | None:
        """The event loop's time of the next firing's timer (None: none, or a fake
        clock's): the loop wakes up then anyway."""
        timer = self._timer
        return None if timer is None else timer.loop_time()

    def _first_planned(self, due: float) -> TaskEntry | None:
        """The first task still planned at the instant `due` of the heap, if any."""
        for entry in _as_sequence(self._due[due]):
            if entry.planned_at == due:
                return entry
        return None

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        if self.stopping:
            return
        now = self.clock.now()
        now_ts = now.timestamp()
        heap = self._heap
        self._dispatching = True
        held = self.collector.burst_starts()
        fired = 0
        try:
            while heap and heap[0] <= now_ts:
                due = heapq.heappop(heap)
                for entry in _as_sequence(self._due.pop(due)):
                    if entry.planned_at == due:
                        entry.planned_at = None
                        self._fire(entry, now)
                        fired += 1
        finally:
            self._dispatching = False
            self.collector.burst_ended(held, fired, self._running > 0)
        self._arm()

    # ----- firing --------------------------------------------------------------------
    def _fire(self, entry: TaskEntry, now: datetime) -> None:
        timeline = entry.timeline
        assert timeline is not None
        # The task's run settings, read once from the object tasks share (not through the
        # Task's read-only attributes: a Python-level getter each, on every firing).
        settings = entry.task.settings
        pending = timeline.pending
        assert pending is not None
        if (
            entry.runs
            and len(entry.runs) >= settings.max_concurrent_runs
            and (pending == entry.last_instant or settings.misfire == "all")
        ):
            # A second firing at the very instant of the running one (OrTrigger of two
            # Once), or any firing of a task that runs them all: it runs when the
            # current run ends, instead of being skipped.
            entry.deferred = True
            return
        if settings.misfire == "all":  # each missed firing is a run of its own, in turn
            timeline.consume()
            instant = pending
        elif settings.misfire == "earliest":
            latest, coalesced, _ = timeline.consume_through(now)
            instant = pending
            if latest != pending:
                self._skip(entry, latest, SkipReason.MISSED, coalesced)
        else:
            instant, coalesced, last_coalesced = timeline.consume_through(now)
            if coalesced and last_coalesced is not None:
                self._skip(entry, last_coalesced, SkipReason.MISSED, coalesced)
        entry.last_instant = instant
        grace = settings.misfire_grace_time
        if grace is not None and (now - instant).total_seconds() > grace:
            self._skip(entry, instant, SkipReason.MISSED, 1)
        elif entry.paused:
            self._skip(entry, instant, SkipReason.PAUSED, 1)
        elif len(entry.runs) >= settings.max_concurrent_runs:
            self._skip(entry, instant, SkipReason.OVERLAP, 1)
        else:
            run = self._start_run(entry, instant, RunKind.SCHEDULE)
            if settings.jitter:
                run.delay = self.jitter_source.uniform(0.0, settings.jitter)
        self._plan(entry)

    def _start_run(
        self, entry: TaskEntry, instant: datetime, kind: RunKind, attempt: int = 1
    ) -> Run:
        task = entry.task
        run = Run(
            task.id, task.name, new_run_id(), kind, instant, self.clock.now, self.replica, attempt
        )
        entry.runs.append(run)
        if self._running == 0:
            self.runs_done.clear()
            self.delivery.busy()
        self._running += 1
        run.task = self._loop.create_task(execute_run(self, entry, run), name=entry.label)
        return run

    def run_ended(self, entry: TaskEntry, run: Run, record: RunRecord) -> None:
        """Called by the runner when a run is over (its record delivered): update
        counters, re-plan if needed. A run whose worker thread still runs keeps its slot
        until `thread_returned`."""
        self._running -= 1
        entry.run_count += 1
        if record.failed:
            entry.failure_count += 1
            if self._worth_a_retry(entry, run):
                self._plan_retry(entry, run)
        entry.last_run = record
        if run.thread_running:
            run.overran = True
            run.record = record
            entry.overrunning += 1
            self.overrunning += 1
            self.threads_done.clear()
            if self.bus.active:
                self.delivery.flush()  # the run's end reaches subscribers first
                self.bus.publish(ThreadOverran(self.clock.now(), record))
        else:
            entry.runs.remove(run)
        self._after_run(entry)

    def thread_returned(self, entry: TaskEntry, run: Run) -> None:
        """The worker thread of an overrun run returned: its slot is free again."""
        entry.runs.remove(run)
        entry.overrunning -= 1
        self.overrunning -= 1
        if not self.overrunning:
            self.threads_done.set()
        record = run.record
        assert record is not None and record.ended_at is not None
        overran = (self.clock.now() - record.ended_at).total_seconds()
        logger.info(
            "Task %s: the worker thread of run %s returned, %.3g s after the run ended",
            entry.task.name,
            run.run_id,
            overran,
        )
        if self.bus.active:
            self.bus.publish(ThreadReturned(self.clock.now(), record, overran))
        self._after_run(entry)

    # ----- retries ---------------------------------------------------------------------
    def _worth_a_retry(self, entry: TaskEntry, run: Run) -> bool:
        settings = entry.task.settings
        if self.stopping or run.attempt > settings.retries or entry.task.id not in self.entries:
            return False
        if settings.retry_on is None:
            return True
        if run.timed_out:
            return issubclass(TaskTimeoutError, settings.retry_on)
        return isinstance(run.error, settings.retry_on)

    def _plan_retry(self, entry: TaskEntry, run: Run) -> None:
        """The next attempt, `retry_delay · retry_backoff^(attempt-1)` seconds from now."""
        settings = entry.task.settings
        delay = settings.retry_delay * settings.retry_backoff ** (run.attempt - 1)
        when = self.clock.now() + timedelta(seconds=delay)
        attempt = run.attempt + 1
        handle: TimerHandle | None = None

        def retry() -> None:
            if handle is not None:
                self._retries.pop(handle, None)
            self._retry(entry, attempt, when)

        handle = self.clock.call_at(when, retry)
        self._retries[handle] = entry
        logger.info(
            "Task %s: attempt %d of %d in %.3g s",
            entry.task.name,
            attempt,
            settings.retries + 1,
            delay,
        )

    def _retry(self, entry: TaskEntry, attempt: int, instant: datetime) -> None:
        if self.stopping:
            return
        if entry.paused:
            self._skip(entry, instant, SkipReason.PAUSED, 1, RunKind.RETRY)
        elif len(entry.runs) >= entry.task.settings.max_concurrent_runs:
            self._skip(entry, instant, SkipReason.OVERLAP, 1, RunKind.RETRY)
        else:
            self._start_run(entry, instant, RunKind.RETRY, attempt)
        self._check_idle()

    def run_declined(
        self, entry: TaskEntry, run: Run, reason: SkipReason, detail: str | None
    ) -> None:
        """A run that another replica took (or that the coordinator could not allow)."""
        entry.runs.remove(run)
        self._running -= 1
        self._skip(entry, run.scheduled_for, reason, 1, run.kind, detail)
        self._after_run(entry)

    def _after_run(self, entry: TaskEntry) -> None:
        """A run slot freed up: fire a deferred firing, restart Forever, or finish."""
        if self._running == 0:
            self.runs_done.set()
            self.collector.runs_ended()
            self.delivery.idle()
        if not self.stopping and not entry.legacy and entry.timeline is not None:
            if entry.deferred and not entry.runs:
                entry.deferred = False
                self._fire(entry, self.clock.now())
            elif not entry.runs and entry.timeline.pending is None:
                if entry.timeline.can_restart:
                    entry.timeline.restart(self.clock.now())
                    self._plan(entry)
                else:
                    self._finish(entry)
        self._check_idle()

    def _finish(self, entry: TaskEntry) -> None:
        if not entry.finished:
            entry.finished = True
            self._live -= 1
            self._check_idle()

    def _check_idle(self) -> None:
        if (
            self._started
            and self._live <= 0
            and self._running == 0
            and not self._retries
            and not self.overrunning
        ):
            self.idle.set()

    async def _legacy_loop(self, entry: TaskEntry) -> None:
        """Drive an aioclock-style custom trigger that sleeps in `trigger_next()`."""
        trigger = entry.task.trigger
        try:
            while trigger.should_trigger() and not self.stopping:
                await trigger.trigger_next()
                if self.stopping:
                    break
                now = self.clock.now()
                if entry.paused:
                    self._skip(entry, now, SkipReason.PAUSED, 1)
                elif len(entry.runs) >= entry.task.settings.max_concurrent_runs:
                    self._skip(entry, now, SkipReason.OVERLAP, 1)
                else:
                    run = self._start_run(entry, now, RunKind.SCHEDULE)
                    assert run.task is not None
                    await asyncio.wait([run.task])
        except Exception:
            logger.exception("Custom trigger of task %s raised; the task stops", entry.task.name)
        finally:
            self._finish(entry)
