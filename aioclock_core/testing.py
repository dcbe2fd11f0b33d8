"""Testing helpers: a fake clock you advance by hand, and a context manager that serves an app.

A test of a daily cron runs in milliseconds::

    clock = FakeClock(start=datetime(2026, 3, 28, tzinfo=timezone.utc))
    app = AioClock(clock=clock)
    ...
    async with serving(app):
        await clock.advance(days=2)   # every firing due on the way runs, in order
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timezone

import anyio

from aioclock_core._clock import Clock, TimerHandle
from aioclock_core.app import AioClock
from aioclock_core.events import Event

__all__ = ["FakeClock", "serving", "EventRecorder"]

UTC = timezone.utc
DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
_SETTLE_LIMIT = 10.0
"""Real seconds `settle()` waits for worker threads before it gives up with an error."""


class _FakeTimer(TimerHandle):
    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock(Clock):
    """A clock that only moves when told to.

    `advance()` moves time forward in steps, stopping at every deadline on the way,
    running its callbacks and letting the event loop settle (including worker threads
    of sync tasks) before moving on, so each firing runs at its own instant.

    Args:
        start: The initial instant (an aware datetime; default 2026-01-01 00:00 UTC).
    """

    def __init__(self, start: datetime | None = None) -> None:
        start = start or DEFAULT_START
        if start.tzinfo is None:
            raise ValueError(
                f"FakeClock(start={start!r}) needs an aware datetime; "
                "pass tzinfo=timezone.utc (or a ZoneInfo)"
            )
        self._now = start.timestamp()
        self._origin = self._now
        self._timers: list[tuple[float, int, _FakeTimer]] = []
        self._sequence = itertools.count()
        self._outside_work = 0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._now, UTC)

    def monotonic(self) -> float:
        return self._now - self._origin

    def call_at(self, deadline: datetime, callback: Callable[[], None]) -> TimerHandle:
        timer = _FakeTimer(callback)
        if deadline.timestamp() <= self._now:
            # Already due: runs on the loop's next turn, without waiting for advance().
            asyncio.get_running_loop().call_soon(_fire_unless_cancelled, timer)
            return timer
        with self._lock:  # a worker thread may push a timer too (sleep_in_thread)
            heapq.heappush(self._timers, (deadline.timestamp(), next(self._sequence), timer))
        return timer

    def sleep_in_thread(self, seconds: float) -> None:
        """Block the calling worker thread (a sync task's body) until the clock has been
        advanced `seconds` past now. While it waits, the thread does not count as busy,
        so `advance()` moves on; when the deadline comes, the clock lets it finish
        before going further, as with any other firing."""
        if seconds <= 0:
            return
        woken = threading.Event()

        def wake() -> None:  # on the loop, at the deadline
            with self._lock:
                self._outside_work += 1  # busy again before it can run: settle() waits
            woken.set()

        with self._lock:
            due = self._now + seconds
            heapq.heappush(self._timers, (due, next(self._sequence), _FakeTimer(wake)))
            self._outside_work -= 1
        woken.wait()

    def work_started(self) -> None:
        with self._lock:
            self._outside_work += 1

    def work_finished(self) -> None:
        with self._lock:
            self._outside_work -= 1

    def next_deadline(self) -> datetime | None:
        """The earliest pending deadline, if any."""
        with self._lock:
            self._drop_cancelled()
            return datetime.fromtimestamp(self._timers[0][0], UTC) if self._timers else None

    async def advance(
        self,
        seconds: float = 0.0,
        *,
        minutes: float = 0.0,
        hours: float = 0.0,
        days: float = 0.0,
    ) -> None:
        """Move time forward by the sum of the arguments, running what falls due."""
        total = seconds + 60 * minutes + 3600 * hours + 86400 * days
        if total < 0:
            raise ValueError(f"FakeClock.advance() cannot go back in time (got {total} s)")
        await self.advance_to(datetime.fromtimestamp(self._now + total, UTC))

    async def advance_to(self, instant: datetime) -> None:
        """Move time forward to `instant`, running every deadline up to it in order."""
        target = instant.timestamp()
        if target < self._now:
            raise ValueError(f"FakeClock.advance_to({instant}) is in the past (now {self.now()})")
        await self.settle()
        while True:
            with self._lock:
                self._drop_cancelled()
                if not self._timers or self._timers[0][0] > target:
                    break
                due, _, timer = heapq.heappop(self._timers)
                self._now = max(self._now, due)
            timer.callback()
            await self.settle()
        self._now = target
        await self.settle()

    async def jump(self, seconds: float = 0.0, *, minutes: float = 0.0, hours: float = 0.0) -> None:
        """Move time forward the way a stalled event loop (or a suspended machine) sees it:
        nothing runs meanwhile, and what fell due runs at once afterwards, late."""
        total = seconds + 60 * minutes + 3600 * hours
        if total < 0:
            raise ValueError(f"FakeClock.jump() cannot go back in time (got {total} s)")
        self._now += total
        await self.advance(0)

    async def advance_to_next(self) -> datetime | None:
        """Jump to the next deadline and run it; returns the new time (None: no deadline)."""
        await self.settle()
        deadline = self.next_deadline()
        if deadline is None:
            return None
        await self.advance_to(max(deadline, self.now()))
        return self.now()

    async def settle(self) -> None:
        """Let the loop run until nothing is ready and no worker thread is busy.

        Worker threads count when started by a sync task or on anyio's default thread
        limiter (fast-depends resolves sync dependencies there)."""
        loop = asyncio.get_running_loop()
        ready = getattr(loop, "_ready", None)
        quiet_rounds = 0
        give_up = time.monotonic() + _SETTLE_LIMIT
        threads = anyio.to_thread.current_default_thread_limiter()
        while quiet_rounds < 3:
            await asyncio.sleep(0)
            outside = self._outside_work > 0 or threads.borrowed_tokens > 0
            busy = outside or (ready is not None and len(ready) > 0)
            if ready is None:
                busy = busy or quiet_rounds < 50
            if not busy:
                quiet_rounds += 1
                continue
            quiet_rounds = 0
            if outside:
                if time.monotonic() > give_up:
                    raise TimeoutError(
                        "FakeClock.settle(): a sync task's worker thread is still busy after "
                        f"{_SETTLE_LIMIT:g} real seconds"
                    )
                await asyncio.sleep(0.0005)

    def _drop_cancelled(self) -> None:
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of fake time (a task body under test may call this)."""
        await super().sleep(seconds)


def _fire_unless_cancelled(timer: _FakeTimer) -> None:
    if not timer.cancelled:
        timer.callback()


@asynccontextmanager
async def serving(
    app: AioClock, *, grace: float = 0.0, paused: bool = False
) -> AsyncIterator[AioClock]:
    """Serve `app` in a background task for the duration of the block (`paused`: every
    task paused for this session, as `serve(paused=True)`).

    Yields once the app has started. On exit the app is shut down with `grace`
    seconds for running runs (default 0: they are cancelled), and any exception that
    serve() raised is re-raised.
    """
    task = asyncio.create_task(app.serve(paused=paused), name=f"serve:{app.name}")
    started = asyncio.ensure_future(app.wait_started())
    await asyncio.wait([task, started], return_when=asyncio.FIRST_COMPLETED)
    started.cancel()
    if task.done():
        task.result()
    try:
        yield app
    finally:
        if not task.done():
            app.request_shutdown(grace)
            clock = app.clock
            while not task.done():
                if isinstance(clock, FakeClock):
                    if await clock.advance_to_next() is None:
                        await asyncio.sleep(0)
                else:
                    await asyncio.sleep(0.001)
        task.result()


class EventRecorder:
    """Collects an app's events in order, on the scheduler's loop (no threads, no waits).

    Usage: `recorder = EventRecorder(app)` before serving; read `recorder.events`
    or `recorder.of_type(RunFinished)` after advancing the clock.
    """

    def __init__(self, app: AioClock) -> None:
        self.events: list[Event] = []
        self._subscription = app.subscribe(self.events.extend, on_loop=True)

    def of_type(self, kind: type[Event]) -> list[Event]:
        """The recorded events of one type, in order."""
        return [event for event in self.events if isinstance(event, kind)]

    def close(self) -> None:
        """Stop recording."""
        self._subscription.close()
