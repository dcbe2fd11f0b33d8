"""The clock seam: every read of time and every wait in aioclock_core goes through a Clock."""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime, timezone

UTC = timezone.utc


class TimerHandle(ABC):
    """A callback scheduled on a clock; cancel it to stop it from firing."""

    @abstractmethod
    def cancel(self) -> None: ...

    def loop_time(self) -> float | None:
        """The event loop's time (`loop.time()`) at which this timer wakes the loop, or
        None if it does not (a fake clock's timer, or one that fired or was cancelled)."""
        return None


class Clock(ABC):
    """Source of wall time, monotonic time and timed callbacks.

    Wall time is an aware UTC datetime. Deadlines are wall-clock instants, so a
    machine that was suspended wakes up and finds its deadlines in the past,
    which is what the scheduler's misfire handling expects.
    """

    @abstractmethod
    def now(self) -> datetime:
        """The current instant as an aware UTC datetime."""

    @abstractmethod
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for durations)."""

    @abstractmethod
    def call_at(self, deadline: datetime, callback: Callable[[], None]) -> TimerHandle:
        """Run `callback` on the running event loop once `deadline` has passed."""

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        handle = self.call_at(
            datetime.fromtimestamp(self.now().timestamp() + max(0.0, seconds), UTC), wake
        )
        try:
            await future
        finally:
            handle.cancel()

    async def sleep_until(self, deadline: datetime) -> None:
        """Wait until `deadline` (an aware datetime) has passed on this clock."""
        await self.sleep((deadline - self.now()).total_seconds())

    def sleep_in_thread(self, seconds: float) -> None:
        """Block the calling thread for `seconds` of this clock's time: what a sync task's
        body calls instead of `time.sleep`, so that tests on a fake clock can run it."""
        time.sleep(max(0.0, seconds))

    def work_started(self) -> None:  # noqa: B027 - a no-op hook by default
        """Note that work outside the event loop (a worker thread) has begun."""

    def work_finished(self) -> None:  # noqa: B027 - a no-op hook by default
        """Note that work outside the event loop has ended."""


class _LoopTimer(TimerHandle):
    __slots__ = ("_handle",)

    def __init__(self, handle: asyncio.TimerHandle) -> None:
        self._handle = handle

    def cancel(self) -> None:
        self._handle.cancel()

    def loop_time(self) -> float | None:
        return None if self._handle.cancelled() else self._handle.when()


class SystemClock(Clock):
    """The real clock: wall time from the OS, waits on the event loop's timer."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def call_at(self, deadline: datetime, callback: Callable[[], None]) -> TimerHandle:
        loop = asyncio.get_running_loop()
        delay = deadline.timestamp() - time.time()
        if delay <= 0:
            return _LoopTimer(loop.call_later(0, callback))
        # The loop's timer is monotonic; re-check the wall clock on wake-up so that a
        # wall-clock step or a suspend never makes us fire early.
        return _WallTimer(loop, deadline.timestamp(), callback)


class _WallTimer(TimerHandle):
    __slots__ = ("_callback", "_deadline", "_handle", "_loop")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, deadline: float, callback: Callable[[], None]
    ) -> None:
        self._loop = loop
        self._deadline = deadline
        self._callback = callback
        self._handle: asyncio.TimerHandle | None = loop.call_later(
            deadline - time.time(), self._wake
        )

    def _wake(self) -> None:
        remaining = self._deadline - time.time()
        if remaining > 0.0005:
            self._handle = self._loop.call_later(remaining, self._wake)
            return
        # The spent loop handle refers back to this timer through `_wake`: dropping it
        # lets refcounting free the pair. Kept, every timer that fired was cyclic garbage
        # (4 objects) for the collector; with 10,000 randomly phased tasks that fed
        # collections of 10+ ms (docs/benchmarks.md, lateness with random phases).
        self._handle = None
        self._callback()

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()

    def loop_time(self) -> float | None:
        handle = self._handle
        return None if handle is None or handle.cancelled() else handle.when()


SYSTEM_CLOCK = SystemClock()
