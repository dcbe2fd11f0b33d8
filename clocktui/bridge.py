"""Bridge: runs, core events and log records cross from other threads to the UI.

Runs, the bulk of the traffic (two per firing), come as `RunRecord`s through a run sink
(`AioClock.add_run_sink`: one deque extend per batch on the loop, no event built); the
rarer events come from the bus (pauses, skips, the scheduler's phases, blocked loops). Each
kind is batched: at most one `RunsArrived`, `EventsArrived` and `LogsArrived` waits in
the UI's queue, and the UI drains the buffer when it handles it. Runs wake the UI when a
burst of them ends, and within `RUN_LATENCY` while a burst (or a long run) goes on; log
records pass a `LogIntake` (bounded, dropped past a rate). Only Textual's thread-safe,
non-blocking `post_message` is used, never `call_from_thread`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Sequence

from textual.message import Message
from textual.message_pump import MessagePump

from aioclock_core import AioClock
from aioclock_core.events import (
    Event,
    LoopBlocked,
    RunSkipped,
    SchedulerStarted,
    SchedulerStopped,
    SchedulerStopping,
    Subscription,
    TaskPaused,
    TaskResumed,
)
from aioclock_core.runs import RunRecord, RunSink
from clocktui.log_intake import LogIntake
from clocktui.logbook import LogEntry
from clocktui.output_capture import PrintCapture
from clocktui.restart_summary import MissedWhileStopped

__all__ = [
    "EventsArrived",
    "RunsArrived",
    "LogsArrived",
    "CommandAnswered",
    "HostStopped",
    "Bridge",
    "EVENT_KINDS",
    "RUN_LATENCY",
]

RUN_LATENCY = 0.03
"""Seconds at most between a run starting or ending and the UI hearing of it."""

EVENT_KINDS = (
    SchedulerStarted,
    SchedulerStopping,
    SchedulerStopped,
    TaskPaused,
    TaskResumed,
    RunSkipped,
    LoopBlocked,
)
"""What the console takes from the bus. Not RunStarted/RunFinished (runs come through
its run sink) nor TaskScheduled (the console reads next firings when it draws), so the
scheduler builds no event per firing for the console."""


class EventsArrived(Message):
    """Core events are waiting in the bridge (`Bridge.drain_events()`); `events` holds any
    carried by the message itself, which come first."""

    def __init__(self, events: tuple[Event, ...]) -> None:
        super().__init__()
        self.events = events


class RunsArrived(Message):
    """Runs started or ended: call `Bridge.drain_runs()`. `burst_over`: the scheduler has
    no run in flight (else runs keep coming and this is a `RUN_LATENCY` wake-up)."""

    def __init__(self, burst_over: bool = True) -> None:
        super().__init__()
        self.burst_over = burst_over


class LogsArrived(Message):
    """Log records are waiting in the bridge's buffer: call `Bridge.drain_logs()`."""


class CommandAnswered(Message):
    """A control command sent to the scheduler finished: tell the user."""

    def __init__(self, text: str, severity: str = "information") -> None:
        super().__init__()
        self.text = text
        self.severity = severity


class HostStopped(Message):
    """The scheduler thread has ended (serve() returned or raised)."""


class _LogForwarder(logging.Handler):
    """Buffers records from any thread; posts one `LogsArrived` per burst."""

    def __init__(self, bridge: Bridge) -> None:
        super().__init__(level=logging.INFO)
        self._bridge = bridge

    def emit(self, record: logging.LogRecord) -> None:
        try:
            now = self._bridge.app.clock.now
            self._bridge.logs.offer(lambda: LogEntry.of(record, now()))
        except Exception:
            self.handleError(record)


class _RunFeed(RunSink):
    """The bridge's run sink: on the scheduler's loop, batches go into a deque and the UI
    is woken when a burst of runs is over (not per run: it would compete with the rest
    of the burst for the interpreter)."""

    def __init__(self, bridge: Bridge) -> None:
        self._bridge = bridge

    def deliver(self, runs: Sequence[RunRecord]) -> None:
        self._bridge._runs.extend(runs)
        self._bridge._runs_delivered()

    def idle(self) -> None:
        self._bridge._runs_idle()


class Bridge:
    """Subscribes to `app`'s events and the root logger, posting messages to `target`."""

    def __init__(self, app: AioClock, target: MessagePump) -> None:
        self.app = app
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
        self._subscription: Subscription | None = None
        self._runs_watch: Subscription | None = None
        self._handler = _LogForwarder(self)
        self._silenced: list[tuple[logging.Handler, int]] = []
        self._root_level: int | None = None
        self._prints = PrintCapture()
        self._missed: MissedWhileStopped | None = None

    def connect(self, *, capture_logs: bool = True) -> None:
        """Start forwarding; call before the app serves so no event is missed."""
        self._subscription = self.app.subscribe(self._deliver, kinds=EVENT_KINDS)
        # Extending a deque is all the loop does per batch; the UI also drains on a timer,
        # for runs that keep the scheduler from ever going idle.
        self._runs_watch = self.app.add_run_sink(_RunFeed(self))
        if capture_logs:
            root = logging.getLogger()
            root.addHandler(self._handler)
            if root.level == logging.NOTSET or root.level > logging.INFO:
                self._root_level = root.level
                root.setLevel(logging.INFO)
            self._silence_console_handlers(root)
            self._missed = MissedWhileStopped.attach(self._handler, self.app.clock.now())
            self._prints.install()

    def close(self) -> None:
        """Stop forwarding and restore the logging configuration."""
        for subscription in (self._subscription, self._runs_watch):
            if subscription is not None:
                subscription.close()
        self._subscription = self._runs_watch = None
        self._prints.uninstall()
        if self._missed is not None:
            self._missed.detach()
            self._missed = None
        root = logging.getLogger()
        root.removeHandler(self._handler)
        if self._root_level is not None:
            root.setLevel(self._root_level)
            self._root_level = None
        for handler, level in self._silenced:
            handler.setLevel(level)
        self._silenced = []

    def _deliver(self, batch: Sequence[Event]) -> None:
        # At most one EventsArrived waits in the UI's queue: it drains whatever arrived
        # by then, so a herd of firings costs one message per UI turn, not one per batch.
        with self._lock:
            self._events.extend(batch)
            wake = not self._events_posted
            self._events_posted = True
        if wake:
            self.target.post_message(EventsArrived(()))

    def _runs_idle(self) -> None:
        # The UI clears the flag before it drains, so a run is never left without a wake-up.
        self.last_idle = time.monotonic()
        if self._runs and not self._runs_posted:
            self._runs_posted = True
            self.target.post_message(RunsArrived())

    def _runs_delivered(self) -> None:
        # Waking the UI per batch would make it fight a burst for the interpreter; one
        # timer per RUN_LATENCY bounds how long a run waits when no idle comes soon.
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
        """Whether runs wait while the scheduler has not gone idle for `after` seconds
        (long runs keep it busy, so no burst's end wakes the UI)."""
        return bool(self._runs) and time.monotonic() - self.last_idle >= after

    def drain_runs(self) -> list[RunRecord]:
        """Take every run handed over since the last drain, in order (UI thread)."""
        self._runs_posted = False
        runs = self._runs
        return [runs.popleft() for _ in range(len(runs))]

    def drain_events(self) -> list[Event]:
        """Take every event buffered since the last drain, in order (UI thread)."""
        with self._lock:
            events, self._events = self._events, []
            self._events_posted = False
        return events

    def drain_logs(self) -> list[LogEntry]:
        """Take every record let through since the last drain (UI thread)."""
        return self.logs.drain(self.app.clock.now())

    def _silence_console_handlers(self, root: logging.Logger) -> None:
        """Stream handlers the user's module set up (basicConfig) would scribble over the
        screen: mute them while the console runs; `close` restores them."""
        for handler in root.handlers:
            if type(handler) is logging.StreamHandler:
                self._silenced.append((handler, handler.level))
                handler.setLevel(logging.CRITICAL + 1)
