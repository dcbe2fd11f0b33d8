"""Inbox: what a source hands the console from its own thread, and the messages that wake it.

Runs, the bulk of the traffic (two per firing), go into a deque that the UI drains when a
burst is over; events and log records are buffered likewise. At most one `RunsArrived`,
`EventsArrived` and `LogsArrived` waits in the UI's queue, and the UI drains the buffer
when it handles it. Only Textual's thread-safe, non-blocking `post_message` is used, never
`call_from_thread`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import datetime

from textual.message import Message
from textual.message_pump import MessagePump

from aioclock_core.events import Event
from aioclock_core.runs import RunRecord
from clocktui.log_intake import LogIntake
from clocktui.logbook import LogEntry
from clocktui.model import ReplicaView, Snapshot

__all__ = [
    "Inbox",
    "EventsArrived",
    "RunsArrived",
    "LogsArrived",
    "CommandAnswered",
    "HostStopped",
    "SnapshotArrived",
    "ConnectionChanged",
    "ReplicasChanged",
    "RUN_LATENCY",
]

RUN_LATENCY = 0.03
"""Seconds at most between a run starting or ending (in this process) and the UI hearing
of it, while a burst or a long run keeps the scheduler from going idle."""


class EventsArrived(Message):
    """Core events are waiting in the inbox (`Inbox.drain_events()`); `events` holds any
    carried by the message itself, which come first."""

    def __init__(self, events: tuple[Event, ...]) -> None:
        super().__init__()
        self.events = events


class RunsArrived(Message):
    """Runs started or ended: call `Inbox.drain_runs()`. `burst_over`: the source has no
    run in flight (else runs keep coming and this is a `RUN_LATENCY` wake-up)."""

    def __init__(self, burst_over: bool = True) -> None:
        super().__init__()
        self.burst_over = burst_over


class LogsArrived(Message):
    """Log records are waiting in the inbox: call `Inbox.drain_logs()`."""


class CommandAnswered(Message):
    """A control command sent to the app finished: tell the user."""

    def __init__(self, text: str, severity: str = "information") -> None:
        super().__init__()
        self.text = text
        self.severity = severity


class HostStopped(Message):
    """The app hosted in this process has stopped (serve() returned or raised)."""


class SnapshotArrived(Message):
    """A remote source (re)connected: call `Inbox.take_snapshot()` and start over."""


class ConnectionChanged(Message):
    """A remote source lost its connection (`connected` False: it keeps retrying) or got
    it back; `text` says what happened."""

    def __init__(self, connected: bool, text: str) -> None:
        super().__init__()
        self.connected = connected
        self.text = text


class ReplicasChanged(Message):
    """A fleet source read its replicas anew."""

    def __init__(self, replicas: Sequence[ReplicaView]) -> None:
        super().__init__()
        self.replicas = replicas


class Inbox:
    """Buffers between a source's thread and the console's (`target`, the UI)."""

    def __init__(self, target: MessagePump) -> None:
        self.target = target
        self._lock = threading.Lock()
        self.logs = LogIntake(lambda: self.target.post_message(LogsArrived()))
        """Where log records wait for the UI (bounded; dropped past a rate)."""
        self._events: list[Event] = []
        self._events_posted = False
        self._runs: deque[RunRecord] = deque()
        self._runs_posted = False
        self._runs_wake_armed = False
        self.last_idle = time.monotonic()
        self._snapshot: tuple[Snapshot, int, int] | None = None
        """A snapshot waiting, with the runs and events that came before it."""

    def post(self, message: Message) -> None:
        """Post `message` to the console (any thread, never blocks)."""
        self.target.post_message(message)

    # ----- runs -------------------------------------------------------------------------
    def add_runs(self, runs: Iterable[RunRecord]) -> None:
        """Buffer runs (the source's thread); `runs_idle` wakes the UI for them."""
        self._runs.extend(runs)

    def runs_idle(self) -> None:
        """A burst of runs is over: wake the UI if runs wait. The UI clears the flag before
        it drains, so a run is never left without a wake-up."""
        self.last_idle = time.monotonic()
        if self._runs and not self._runs_posted:
            self._runs_posted = True
            self.target.post_message(RunsArrived())

    def runs_delivered(self) -> None:
        """Runs were added on the scheduler's loop (in this process): if no burst's end
        wakes the UI for them soon, a timer does within `RUN_LATENCY`. Waking the UI per
        batch would make it fight the burst for the interpreter."""
        if not self._runs_posted and not self._runs_wake_armed:
            self._runs_wake_armed = True
            asyncio.get_running_loop().call_later(RUN_LATENCY, self._runs_waited)

    def _runs_waited(self) -> None:
        self._runs_wake_armed = False
        if self._runs and not self._runs_posted:
            self._runs_posted = True
            self.target.post_message(RunsArrived(burst_over=False))

    @property
    def runs_pending(self) -> bool:
        """Whether runs wait to be drained, or a RunsArrived is on its way."""
        return bool(self._runs) or self._runs_posted

    def runs_stuck(self, after: float) -> bool:
        """Whether runs wait while the source has not gone idle for `after` seconds
        (long runs keep the scheduler busy, so no burst's end wakes the UI)."""
        return bool(self._runs) and time.monotonic() - self.last_idle >= after

    def drain_runs(self) -> list[RunRecord]:
        """Take every run handed over since the last drain, in order (UI thread); while a
        snapshot waits, only the runs that came before it."""
        self._runs_posted = False
        runs = self._runs
        count = len(runs) if self._snapshot is None else self._older_runs()
        return [runs.popleft() for _ in range(count)]

    # ----- snapshots (remote sources) -------------------------------------------------------
    def restart(self, snapshot: Snapshot) -> None:
        """A remote source (re)connected (its thread): runs and events that came before are
        the old connection's; those after count from `snapshot`."""
        with self._lock:
            self._snapshot = (snapshot, len(self._runs), len(self._events))
        self.target.post_message(SnapshotArrived())

    def take_snapshot(self) -> tuple[Snapshot, list[RunRecord], list[Event]] | None:
        """The waiting snapshot with the runs and events that came before it (UI thread)."""
        with self._lock:
            if self._snapshot is None:
                return None
            snapshot, runs, events = self._snapshot
            self._snapshot = None
            older_events, self._events = self._events[:events], self._events[events:]
        older_runs = [self._runs.popleft() for _ in range(min(runs, len(self._runs)))]
        return snapshot, older_runs, older_events

    def _older_runs(self) -> int:
        with self._lock:
            if self._snapshot is None:
                return len(self._runs)
            snapshot, runs, events = self._snapshot
            count = min(runs, len(self._runs))
            self._snapshot = (snapshot, runs - count, events)
            return count

    # ----- events -----------------------------------------------------------------------
    def add_events(self, batch: Sequence[Event]) -> None:
        """Buffer events (any thread). At most one EventsArrived waits in the UI's queue:
        it drains whatever arrived by then, so a herd costs one message per UI turn."""
        with self._lock:
            self._events.extend(batch)
            wake = not self._events_posted
            self._events_posted = True
        if wake:
            self.target.post_message(EventsArrived(()))

    def drain_events(self) -> list[Event]:
        """Take every event buffered since the last drain, in order (UI thread); while a
        snapshot waits, only those that came before it."""
        with self._lock:
            self._events_posted = False
            if self._snapshot is None:
                events, self._events = self._events, []
                return events
            snapshot, runs, count = self._snapshot
            self._snapshot = (snapshot, runs, 0)
            events, self._events = self._events[:count], self._events[count:]
            return events

    # ----- logs -------------------------------------------------------------------------
    def add_log(self, entry: LogEntry) -> None:
        """Offer `entry` to the log intake (any thread); the first of a burst wakes the UI.
        Past the intake's rate or bound, it is dropped (and counted)."""
        self.logs.offer(lambda: entry)

    def add_logs(self, entries: Sequence[LogEntry]) -> None:
        """Offer `entries` to the log intake (any thread), in order."""
        for entry in entries:
            self.add_log(entry)

    def drain_logs(self, now: datetime) -> list[LogEntry]:
        """Take every record let through since the last drain, with a "N lines dropped"
        record where lines were dropped (dated `now` if nothing later dates it). UI thread."""
        return self.logs.drain(now)
