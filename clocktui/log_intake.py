"""LogIntake: log records on their way from any thread to the UI: batched, bounded, and
dropped past a rate, with a record that says how many were dropped.

A task that logs thousands of lines a second must not freeze the screen nor grow the
process: the UI takes at most `rate` lines a second (after a `burst`), at most `pending`
lines wait for it, and a dropped line costs a counter increment (its message is not even
formatted). A human reads nothing at such rates; a run's own lines are kept by the core
(`RunRecord.logs`) whatever the console drops.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime

from clocktui.logbook import LogEntry

__all__ = ["LogIntake", "RATE", "BURST", "PENDING", "DROPPED_LOGGER"]

RATE = 1000.0
"""Lines a second the UI takes, sustained."""
BURST = 2000.0
"""Lines the UI takes at once after a quiet spell (the bucket of a token bucket)."""
PENDING = 5000
"""Lines that may wait for the UI; beyond, lines are dropped whatever the rate."""
DROPPED_LOGGER = "clocktui"
"""The logger name of the "N lines dropped" records."""


class LogIntake:
    """A thread-safe, bounded buffer of log records for the UI.

    Args:
        wake: Called (on the offering thread) when the buffer goes from nothing waiting
            to something waiting: the UI should `drain()` soon. Never called twice
            between two drains.
        rate: Lines a second let through, sustained.
        burst: Lines let through at once after a quiet spell.
        pending: Lines that may wait for `drain()`.
        monotonic: The clock of the rate (seconds).
    """

    def __init__(
        self,
        wake: Callable[[], object],
        *,
        rate: float = RATE,
        burst: float = BURST,
        pending: int = PENDING,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._wake = wake
        self.rate = rate
        self.burst = burst
        self.pending_limit = pending
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._waiting: deque[LogEntry | int] = deque()
        """Records, and counts of the lines dropped between them."""
        self._lines = 0
        self._tokens = burst
        self._refilled = monotonic()
        self._dropped_run = 0
        self._woken = False
        self.dropped = 0
        """Lines dropped since the start (for tests and benchmarks)."""

    @property
    def waiting(self) -> int:
        """Records waiting for `drain()` (at most `pending`)."""
        return self._lines

    @property
    def idle(self) -> bool:
        """Whether nothing waits for `drain()` and no wake-up is on its way."""
        with self._lock:
            return not self._waiting and not self._lines and not self._woken

    def offer(self, make: Callable[[], LogEntry]) -> bool:
        """Let a record through if the rate and the buffer allow: `make` builds it (it
        formats the message, so it is only called for a record let through). Any thread.
        Returns whether the record was taken."""
        with self._lock:
            now = self._monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._refilled) * self.rate)
            self._refilled = now
            taken = self._tokens >= 1.0 and self._lines < self.pending_limit
            if taken:
                self._tokens -= 1.0
                self._lines += 1  # a place is held for it while `make` runs
            else:
                self._dropped_run += 1
                self.dropped += 1
                wake = not self._woken
                self._woken = True
        if not taken:
            if wake:
                self._wake()
            return False
        try:
            entry = make()
        except BaseException:
            with self._lock:
                self._lines -= 1
            raise
        with self._lock:
            if self._dropped_run:
                self._waiting.append(self._dropped_run)
                self._dropped_run = 0
            self._waiting.append(entry)
            wake = not self._woken
            self._woken = True
        if wake:
            self._wake()
        return True

    def drain(self, now: datetime) -> list[LogEntry]:
        """Take every waiting record, in order, with a "N lines dropped" record where
        lines were dropped (dated `now` when no later record dates it). UI thread."""
        with self._lock:
            waiting, self._waiting = self._waiting, deque()
            dropped, self._dropped_run = self._dropped_run, 0
            self._lines -= sum(1 for item in waiting if not isinstance(item, int))
            self._woken = False
        if dropped:
            waiting.append(dropped)
        entries: list[LogEntry] = []
        for index, item in enumerate(waiting):
            if isinstance(item, int):
                following = waiting[index + 1] if index + 1 < len(waiting) else None
                at = following.at if isinstance(following, LogEntry) else now
                entries.append(dropped_entry(item, at, self.rate))
            else:
                entries.append(item)
        return entries


def dropped_entry(count: int, at: datetime, rate: float) -> LogEntry:
    """The record that stands for `count` dropped lines."""
    noun = "line" if count == 1 else "lines"
    return LogEntry(
        at=at,
        level=logging.WARNING,
        logger=DROPPED_LOGGER,
        message=f"{count:,} log {noun} dropped (more than {rate:,.0f} a second; "
        "each run keeps its own lines: see its details)",
        task_id=None,
        task_name=None,
    )
