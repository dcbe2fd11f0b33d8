"""Bridge: runs, core events and log records of an app in this process go to the console's
`Inbox`, from the scheduler's loop and any other thread.

Runs, the bulk of the traffic (two per firing), come as `RunRecord`s through a run sink
(`AioClock.add_run_sink`: one deque extend per batch on the loop, no event built); the
rarer events come from the bus (pauses, skips, the scheduler's phases, blocked loops).
Runs wake the UI when a burst of them ends, and within `RUN_LATENCY` while a burst (or a
long run) goes on; log records pass the inbox's `LogIntake` (bounded, dropped past a rate).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from aioclock_core import AioClock
from aioclock_core._clock import Clock
from aioclock_core.events import (
    Event,
    LoopBlocked,
    RunSkipped,
    SchedulerStarted,
    SchedulerStopped,
    SchedulerStopping,
    Subscription,
    TaskAdded,
    TaskPaused,
    TaskRemoved,
    TaskRescheduled,
    TaskResumed,
    ThreadOverran,
    ThreadReturned,
)
from aioclock_core.runs import RunRecord, RunSink
from clocktui.inbox import RUN_LATENCY
from clocktui.logbook import LogEntry
from clocktui.output_capture import PrintCapture
from clocktui.restart_summary import MissedWhileStopped

if TYPE_CHECKING:
    from clocktui.inbox import Inbox

__all__ = ["Bridge", "LogForwarder", "EVENT_KINDS", "RUN_LATENCY"]


EVENT_KINDS = (
    SchedulerStarted,
    SchedulerStopping,
    SchedulerStopped,
    TaskPaused,
    TaskResumed,
    RunSkipped,
    LoopBlocked,
    TaskAdded,
    TaskRemoved,
    TaskRescheduled,
    ThreadOverran,
    ThreadReturned,
)
"""What the console takes from the bus. Not RunStarted/RunFinished (runs come through
its run sink) nor TaskScheduled (the console reads next firings when it draws), so the
scheduler builds no event per firing for the console."""


class LogForwarder(logging.Handler):
    """Hands every record (INFO and up, from any thread) to `add` as a `LogEntry` stamped
    with `clock`'s time."""

    def __init__(
        self,
        add: Callable[[LogEntry], object],
        clock: Clock,
        *,
        offer: Callable[[Callable[[], LogEntry]], object] | None = None,
    ) -> None:
        """`offer`, if given, takes a record's maker instead of `add` (a `LogIntake`
        builds, and formats, only the records it lets through)."""
        super().__init__(level=logging.INFO)
        self._add = add
        self._clock = clock
        self._offer = offer

    def emit(self, record: logging.LogRecord) -> None:
        try:
            now = self._clock.now
            if self._offer is not None:
                self._offer(lambda: LogEntry.of(record, now()))
            else:
                self._add(LogEntry.of(record, now()))
        except Exception:
            self.handleError(record)


class _RunFeed(RunSink):
    """The bridge's run sink: on the scheduler's loop, batches go into the inbox's deque
    and the UI is woken when a burst of runs is over (not per run: it would compete with
    the rest of the burst for the interpreter)."""

    def __init__(self, inbox: Inbox) -> None:
        self._inbox = inbox

    @property
    def wants_every_start(self) -> bool:
        # A run that started and ended within one batch changes the table only by its
        # end: a herd of 5,000 short runs is 5,000 records for the UI to fold, not 10,000.
        return False

    def deliver(self, runs: Sequence[RunRecord]) -> None:
        self._inbox.add_runs(runs)
        self._inbox.runs_delivered()

    def idle(self) -> None:
        self._inbox.runs_idle()


class Bridge:
    """Subscribes to `app`'s events, runs and the root logger, filling `inbox`."""

    def __init__(self, app: AioClock, inbox: Inbox) -> None:
        self.app = app
        self.inbox = inbox
        self._subscription: Subscription | None = None
        self._runs_watch: Subscription | None = None
        self._handler = LogForwarder(inbox.add_log, app.clock, offer=inbox.logs.offer)
        self._silenced: list[tuple[logging.Handler, int]] = []
        self._root_level: int | None = None
        self._prints = PrintCapture()
        self._missed: MissedWhileStopped | None = None

    def connect(self, *, capture_logs: bool = True) -> None:
        """Start forwarding; call before the app serves so no event is missed."""
        self._subscription = self.app.subscribe(self._deliver, kinds=EVENT_KINDS)
        # Extending a deque is all the loop does per batch; the UI also drains on a timer,
        # for runs that keep the scheduler from ever going idle.
        self._runs_watch = self.app.add_run_sink(_RunFeed(self.inbox))
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
        self.inbox.add_events(batch)

    def _silence_console_handlers(self, root: logging.Logger) -> None:
        """Stream handlers the user's module set up (basicConfig) would scribble over the
        screen: mute them while the console runs; `close` restores them."""
        for handler in root.handlers:
            if type(handler) is logging.StreamHandler:
                self._silenced.append((handler, handler.level))
                handler.setLevel(logging.CRITICAL + 1)
