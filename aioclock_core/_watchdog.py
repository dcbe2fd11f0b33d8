"""Loop-blocking watch: notices a stalled event loop and names the run that stalled it."""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from uuid import UUID

from aioclock_core._entry import Run, TaskEntry
from aioclock_core.events import Event, LoopBlocked
from aioclock_core.runs import RunSink

if TYPE_CHECKING:
    from aioclock_core._scheduler import Scheduler

logger = logging.getLogger("aioclock")

Culprit = tuple[TaskEntry, Run]


IDLE_TICK = 0.5
"""Seconds between heartbeats while no run is in flight."""

RIDE_WITHIN = 2.0
"""A slow beat waits for the loop's own next wake-up (the next firing's timer) if that
comes within this many idle ticks, instead of waking the loop by itself: one `Every(1 s)`
task's loop then wakes once a second, as aioclock's does, not twice (issue 17; benchmark:
CPU per firing, lateness N=1). On a shared virtual machine each wake-up of an idle loop
was charged ~0.3 ms of CPU, whatever it did."""

PARK_AFTER_BEATS = 2
"""Idle beats without a run starting after which the thread stops looking until one does.
Not at once: rousing it costs two wake-ups (the rouse, then the GIL the loop holds), and
a thread that looks every other beat is awake just after the next run of a task every
1 s anyway. Counted on a fake clock per firing of one task with a short body (issue 17;
before: looks, of which rouses): every 1 s, 1 look (3, 1); every 0.7 s, 2 looks of which
1 a rouse (3, 1); every 10 s, 3 looks of which 1 a rouse (21, 1)."""


class LoopWatchdog(RunSink):
    """A loop-side heartbeat and a thread that samples which asyncio task is running.

    While runs are in flight the heartbeat ticks every `threshold / 2` seconds. When the
    thread sees a tick late by more than `threshold / 2`, it records the loop's current
    task; when the loop comes back, the heartbeat reports a stall over `threshold` with
    that culprit. While no run is in flight (most of a scheduler's life) it ticks every
    `IDLE_TICK` seconds, so an idle app wakes up a few times a second, not 40: a stall
    from outside any run is then reported once the heartbeat is `threshold` late (a
    stall of 0.6 s at the defaults; shorter ones when they fall late in the beat).

    The start and the end of a burst of runs (`busy`, `idle`) are beats too: the loop is
    running then. So a run that ends before its quick beat is due costs no quick beat,
    and the thread is roused for a run only when it sleeps past the quick beat's moment.
    While no run is in flight the thread looks rarely, then not at all (`_next_sleep`).
    With one `Every(1 s)` task of a short body, that is the firing and one slow beat a
    second on the loop and one wake-up of the thread, instead of three and three and a
    half (issue 17; benchmark: CPU per firing, lateness N=1).
    """

    def __init__(
        self,
        threshold: float,
        find_run: Callable[[asyncio.Task[object] | None], Culprit | None],
        report: Callable[[float, Culprit | None], None],
        *,
        monotonic: Callable[[], float] = time.monotonic,
        idle_tick: float = IDLE_TICK,
        next_wake: Callable[[], float | None] = lambda: None,
    ) -> None:
        self._monotonic = monotonic
        self._next_wake = next_wake
        """The loop's time at which it wakes up anyway (the scheduler's next timer)."""
        self._threshold = threshold
        self._interval = threshold / 2
        self._idle_interval = max(self._interval, idle_tick)
        self._busy = False
        self._scheduled = self._idle_interval
        """Seconds the pending tick was planned after the last one."""
        self._pace = self._idle_interval
        """The pace of the pending tick: `_interval` (quick) or `_idle_interval` (slow;
        `_scheduled` may differ from it when the beat rides on the loop's next wake-up)."""
        self._rides = False
        """Whether the pending tick rides on the loop's next wake-up (a firing)."""
        self._find_run = find_run
        self._report = report
        self._last_tick = monotonic()
        self._sample: tuple[float, Culprit | None] | None = None
        """(the tick the loop was late after, the run it was executing then)"""
        self._started = False
        self._stopped = False
        self._rouse = threading.Event()
        self._busy_since = self._last_tick
        """When the last run started after none was in flight (monotonic)."""
        self._thread_wakes_at = math.inf
        """When the thread's sleep ends (monotonic); infinity while it is awake, since
        it may be planning from the state before a change."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._begin(asyncio.get_running_loop())
        self._thread = threading.Thread(target=self._watch, name="aioclock-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped = True
        self._rouse.set()
        if self._handle is not None:
            self._handle.cancel()
        if self._thread is not None:
            self._thread.join(timeout=1.0)

    def _begin(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Start beating (`loop` None: the caller ticks by hand)."""
        self._loop = loop
        self._started = True
        self._last_tick = self._monotonic()
        self._plan_tick()

    @property
    def wants_started(self) -> bool:
        return False  # it only needs to know when runs are in flight

    def busy(self) -> None:
        """A run started while none was in flight (on the loop): watch closely. Runs
        before `start` (start-up tasks, inside the lifespan) only set the pace."""
        if self._busy:
            return
        self._busy = True
        self._busy_since = self._monotonic()
        if self._started and self._pace > self._interval:
            self._beat_now()  # a slow beat cut short (never late): the quick beat starts now
            if self._thread_wakes_at > self._last_tick + self._interval + self._threshold / 2:
                self._rouse.set()  # it sleeps towards the slow beat's moment

    def idle(self) -> None:
        """The last run in flight ended (on the loop): the loop is alive, so a quick beat
        still pending is replaced by a slow one from now."""
        self._busy = False
        if self._started and self._pace < self._idle_interval:
            self._beat_now()

    def _beat_now(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._tick()

    def _plan_tick(self) -> None:
        self._scheduled = self._pace = self._interval if self._busy else self._idle_interval
        wake = None if self._busy else self._next_wake()
        loop = self._loop
        if wake is not None:
            # A slow beat rides on the loop's own next wake-up when that is near: the
            # same loop time, so one wake-up runs both (the firing is a beat anyway).
            until = wake - (self._monotonic() if loop is None else loop.time())
            if 0 < until <= RIDE_WITHIN * self._idle_interval:
                self._scheduled = until
            else:
                wake = None
        self._rides = wake is not None
        if self._stopped or loop is None:
            return
        if wake is not None:
            self._handle = loop.call_at(wake, self._tick)
        else:
            self._handle = loop.call_later(self._scheduled, self._tick)

    def _tick(self) -> None:
        now = self._monotonic()
        gap = now - self._last_tick - self._scheduled
        previous = self._last_tick
        if gap > self._threshold:
            sample = self._sample  # the thread's, if it belongs to this stall
            self._report(gap, sample[1] if sample is not None and sample[0] == previous else None)
        self._plan_tick()
        self._last_tick = now

    def _watch(self) -> None:
        while not self._stopped:
            self._rouse.clear()  # before the look: a rouse during it cuts the next sleep
            self._rouse.wait(self._next_sleep())

    def _next_sleep(self) -> float | None:
        """One look (`_check`), then the seconds the thread sleeps, or None: until `busy`
        rouses it.

        While no run is in flight there is no run to name (the loop's beat still reports
        a stall, without a culprit), so the thread looks one beat later than `_check`
        says; but at its moment for a beat that rides on a firing: just after the firing,
        when its run is in flight. Not at all once no run has started for
        `PARK_AFTER_BEATS` idle beats. `busy` rouses it whenever it would look too late
        for the run that starts."""
        sleep = self._check()
        if self._busy:
            return sleep
        later: float | None = None
        extra = 0.0 if self._rides else self._idle_interval
        if self._monotonic() - self._busy_since < PARK_AFTER_BEATS * self._idle_interval:
            later = sleep + extra
        # Published before `_busy` is read again: a `busy` from now on sees it and rouses
        # the thread; one that came before it is seen here, and the look stays as planned.
        self._thread_wakes_at += math.inf if later is None else extra
        return sleep if self._busy else later

    def _check(self) -> float:
        """One look at the loop from the thread; returns the seconds until the next.

        The thread sleeps until the moment the loop would be half a threshold late for
        its next tick, not on a fixed beat: while the loop ticks, that is one wake-up per
        one or two ticks (each costs tens of microseconds of CPU), and when the loop does
        stall, the thread is awake at once to see which run holds it."""
        self._thread_wakes_at = math.inf
        since = self._last_tick
        due = since + self._scheduled + self._threshold / 2
        now = self._monotonic()
        if now < due:
            self._thread_wakes_at = due
            return due - now
        if self._sample is None or self._sample[0] != since:  # one sample per stall
            current = None
            if self._loop is not None:
                try:
                    current = asyncio.current_task(self._loop)
                except RuntimeError:
                    pass
            self._sample = (since, self._find_run(current))
        self._thread_wakes_at = now + self._interval
        return self._interval  # until the loop is back


def format_block_warning(seconds: float, task_name: str | None, run_id: UUID | None) -> str:
    """The warning logged for a stall, with the fix."""
    if task_name is None:
        return (
            f"The event loop was blocked for {seconds * 1000:.0f} ms outside any task run; "
            "every firing in that time was late."
        )
    return (
        f"Task {task_name} blocked the event loop for {seconds * 1000:.0f} ms "
        f"(run {run_id}); every other task was delayed. Move blocking work out of the loop: "
        "make the task a plain `def` (it then runs in a worker thread) or await "
        "asyncio.to_thread(...) for the blocking part."
    )


def watch_scheduler(
    threshold: float, scheduler: Scheduler, publish: Callable[[Event], None]
) -> LoopWatchdog:
    """A watchdog that names the scheduler's run that blocked the loop, in a LoopBlocked
    event and a warning."""

    def runs_by_task(current: asyncio.Task[object] | None) -> Culprit | None:
        if current is None:
            return None
        for entry in list(scheduler.entries.values()):
            for run in list(entry.runs):
                if run.task is current:
                    return entry, run
        return None

    def report(blocked_for: float, culprit: Culprit | None) -> None:
        entry, run = culprit if culprit else (None, None)
        name = entry.task.name if entry else None
        logger.warning(format_block_warning(blocked_for, name, run.run_id if run else None))
        publish(
            LoopBlocked(
                at=scheduler.clock.now(),
                blocked_for=blocked_for,
                task_id=entry.task.id if entry else None,
                task_name=name,
                run_id=run.run_id if run else None,
            )
        )

    return LoopWatchdog(threshold, runs_by_task, report, next_wake=scheduler.next_loop_wake)
