"""Loop-blocking watch: notices a stalled event loop and names the run that stalled it."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from uuid import UUID

from aioclock_core._entry import Run, TaskEntry
from aioclock_core.events import Event, LoopBlocked

if TYPE_CHECKING:
    from aioclock_core._scheduler import Scheduler

logger = logging.getLogger("aioclock")

Culprit = tuple[TaskEntry, Run]


class LoopWatchdog:
    """A loop-side heartbeat and a thread that samples which asyncio task is running.

    The heartbeat ticks every `threshold / 2` seconds. When the thread sees no tick for
    longer than `threshold`, it records the loop's current task; when the loop comes
    back, the heartbeat reports the stall with that culprit. Costs about 20 wake-ups a
    second at the default 100 ms threshold.
    """

    def __init__(
        self,
        threshold: float,
        find_run: Callable[[asyncio.Task[object] | None], Culprit | None],
        report: Callable[[float, Culprit | None], None],
    ) -> None:
        self._threshold = threshold
        self._interval = threshold / 2
        self._find_run = find_run
        self._report = report
        self._last_tick = time.monotonic()
        self._culprit: Culprit | None = None
        self._stalled_since: float | None = None
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._last_tick = time.monotonic()
        self._handle = self._loop.call_later(self._interval, self._tick)
        self._thread = threading.Thread(target=self._watch, name="aioclock-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._handle is not None:
            self._handle.cancel()
        if self._thread is not None:
            self._thread.join(timeout=1.0)

    def _tick(self) -> None:
        now = time.monotonic()
        gap = now - self._last_tick - self._interval
        self._last_tick = now
        if gap > self._threshold:
            culprit = self._culprit
            self._culprit = None
            self._stalled_since = None
            self._report(gap, culprit)
        if not self._stop.is_set() and self._loop is not None:
            self._handle = self._loop.call_later(self._interval, self._tick)

    def _watch(self) -> None:
        loop = self._loop
        assert loop is not None
        while not self._stop.wait(self._interval / 2):
            overdue = time.monotonic() - self._last_tick - self._interval
            if overdue > self._threshold / 2 and self._culprit is None:
                try:
                    current = asyncio.current_task(loop)
                except RuntimeError:
                    current = None
                self._culprit = self._find_run(current)


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
            for run in list(entry.runs.values()):
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

    return LoopWatchdog(threshold, runs_by_task, report)
