"""ClockConsole and make_app: wire a source, the model and the screens."""

from __future__ import annotations

import asyncio
import gc
import signal
import time
from collections.abc import Callable, Collection
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import ClassVar
from uuid import UUID

from textual.app import App
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.timer import Timer

from aioclock_core import AioClock
from aioclock_core.events import RunSkipped, TaskAdded, TaskPaused, TaskRescheduled, TaskResumed
from clocktui.cli import EXIT_ABANDONED
from clocktui.control import Controller
from clocktui.failure_toasts import FailureToasts
from clocktui.formatting import inert
from clocktui.inbox import (
    CommandAnswered,
    ConnectionChanged,
    EventsArrived,
    HostStopped,
    Inbox,
    LogsArrived,
    ReplicasChanged,
    RunsArrived,
    SnapshotArrived,
)
from clocktui.logbook import LogBook
from clocktui.model import RECENT_RUNS, ConsoleModel, SchedulerPhase
from clocktui.palette import TaskCommands
from clocktui.screens.confirm import ask_quit
from clocktui.screens.detail import DetailScreen
from clocktui.screens.main import MainScreen
from clocktui.seeding import HistoryLoaded
from clocktui.sources.base import Source
from clocktui.sources.in_process import InProcessSource
from clocktui.widgets.status_header import StatusHeader

__all__ = ["ClockConsole", "make_app"]

_PLAN_CHANGING = (TaskPaused, TaskResumed, RunSkipped, TaskAdded, TaskRescheduled)
"""Events after which a task's next firing is read again."""
_RUNS_STUCK = 1.5
"""Seconds: the UI is woken when a burst of runs ends; while runs keep the scheduler
busy, the heartbeat takes runs that waited this long."""
_BEAT_AFTER_BURST = 0.5
"""Seconds after a burst's end the heartbeat beats next (then every second)."""
YOUNG_COLLECTION_AFTER = 50_000
"""Net new objects after which the cyclic collector scans the young ones while the console
runs (Python's default: 700). A herd's run records live from its firings until the screen
has folded them in, up to a frame later; at the default, the first allocation after each
burst (on the scheduler's thread, as it fires the next one) started a collection that
scanned and promoted them: ~1 a second, 2-8 ms each at 1,000-5,000 tasks (`gc.callbacks`).
With this threshold none ran once the views were full, and the console's p99 lateness at
1,000 tasks went from 35 to 27 ms (medians of 3, paired; headless: 27-33 ms). Cycles of
garbage are still collected, after at most this many net allocations."""

_STOP_MARGIN = 5.0
"""Seconds past the grace period the console waits for serve() before hurrying it (as a
second quit would)."""


class ClockConsole(App[int]):
    """The live console of one app, whatever its source: in this process (`make_app`),
    behind a control socket or a fleet in Redis (`clocktui.attach`).

    Args:
        source: Where the tasks live and where commands go.
        display_tz: Zone of the times shown (default: the machine's local zone).
        handle_signals: Quit gracefully on SIGINT and SIGTERM (the CLI sets it).
        redraw_interval: Seconds between two redraws of the table for runs and events.
        read_only: Hide and refuse the keys that steer the app.
        screenshot_dir: Where the palette's Screenshot command saves (default: the
            current directory).
    """

    CSS_PATH = "clocktui.tcss"
    COMMANDS = App.COMMANDS | {TaskCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "ask_quit", "Quit…"),
        Binding("ctrl+q", "quit", "Quit without asking", show=False, priority=True),
    ]

    def __init__(
        self,
        source: Source,
        *,
        display_tz: tzinfo | None = None,
        handle_signals: bool = False,
        redraw_interval: float = 0.1,
        read_only: bool = False,
        screenshot_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.title = inert(source.name)
        self.sub_title = source.where
        self.zone: tzinfo = display_tz or _local_zone()
        self.model = ConsoleModel(source.tasks())
        self.logbook = LogBook()
        self.inbox = Inbox(self)
        self.read_only = read_only
        self.controller = Controller(source, self, read_only=read_only)
        self.handle_signals = handle_signals
        self.redraw_interval = redraw_interval
        """Seconds between two redraws of the table for model changes (countdowns tick
        every second on their own)."""
        self.stop_requests = 0
        """Quits asked for: 1 stops gracefully, 2 hurries the stop, 3 leaves at once."""
        self.screenshot_dir = screenshot_dir or Path.cwd()
        self.failure_toasts = FailureToasts(self)
        self._planned_all = 0.0

    def now(self) -> datetime:
        """The app's time: the console reads no other clock."""
        return self.source.now()

    # ----- life ---------------------------------------------------------------------
    def on_mount(self) -> None:
        self._thresholds = gc.get_threshold()
        if self._thresholds[0] < YOUNG_COLLECTION_AFTER:
            gc.set_threshold(YOUNG_COLLECTION_AFTER, *self._thresholds[1:])
        # Runs that started before this come from the store, later ones from the scheduler.
        self.session_started = self.now()
        self.push_screen(MainScreen())
        self.source.start(self.inbox)
        # Countdowns need each task's next firing; runs and pauses update the tasks they
        # touch, and this catches every other re-plan within a second.
        self._heartbeat: Timer | None = None
        self._beat_from(1.0)
        if self.handle_signals:
            loop = asyncio.get_running_loop()
            for number in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(number, self.action_quit)

    def on_unmount(self) -> None:
        self.source.close()
        gc.set_threshold(*self._thresholds)

    def action_ask_quit(self) -> None:
        """Quit, asking first while runs are in flight (they would be cut short)."""
        ask_quit(self)

    def action_quit(self) -> None:  # type: ignore[override]
        """Stop the hosted scheduler gracefully, then exit. A second quit cancels running
        runs now (the shut-down tasks and the lifespan exit still run); a third exits at
        once. An attached console just exits: the app goes on."""
        if self.source.stopped:
            self.exit(0)
            return
        self.stop_requests += 1
        if self.stop_requests == 1:
            self.model.phase = SchedulerPhase.STOPPING
            self._model_changed()
            self.source.request_stop()
            grace = self.source.shutdown_grace
            self.set_timer(grace + _STOP_MARGIN, self._hurry_if_still_stopping)
        elif self.stop_requests == 2:
            self.source.request_stop()
            self.notify(
                "Stopping now: running runs are cancelled; the shut-down tasks and the "
                "lifespan exit get 5 s each. Quit again to leave without waiting.",
                severity="warning",
                markup=False,
            )
        else:
            self.source.abandon()
            self.exit(return_code=EXIT_ABANDONED)

    def _hurry_if_still_stopping(self) -> None:
        if self.stop_requests == 1 and not self.source.stopped:
            self.action_quit()  # as a second quit: the grace period is long past

    # ----- messages from other threads -----------------------------------------------
    # ----- the heartbeat ----------------------------------------------------------------
    # One timer, once a second, does the console's periodic work: countdowns, next
    # firings, runs that keep the scheduler busy. Each burst of firings restarts it half
    # a second after the burst, so in an app whose tasks fire every second (or two) it
    # beats between bursts: a timer of its own phase drifts into the bursts and makes
    # the scheduler yield the interpreter mid-burst, second after second.
    def _beat_from(self, delay: float) -> None:
        """Beat `delay` seconds from now, then every second."""
        if self._heartbeat is not None:
            self._heartbeat.stop()
        self._heartbeat = self.set_timer(delay, self._restart_beating)

    def _restart_beating(self) -> None:
        self._heartbeat = self.set_interval(1.0, self._beat)
        self._beat()

    def _beat(self) -> None:
        if self.inbox.runs_stuck(after=_RUNS_STUCK):  # runs keep the scheduler busy
            self.on_runs_arrived(None)
        self._plan_all_if_due()
        if self.model.note_history(self.source.history_failure):
            self._model_changed()
        for tick in self._screen_handlers("tick"):
            tick()

    def on_runs_arrived(self, message: RunsArrived | None) -> None:
        if message is not None and message.burst_over:
            self._beat_from(_BEAT_AFTER_BURST)
        failures, touched = self.model.apply_runs(self.inbox.drain_runs())
        # Right after a burst is the moment to read every next firing, if it is time.
        if not self._plan_all_if_due(0.0):
            self._plan(touched)
        self.failure_toasts.add(failures)
        self._model_changed()

    def on_events_arrived(self, message: EventsArrived) -> None:
        phase = self.model.phase
        events = [*message.events, *self.inbox.drain_events()]
        self.model.apply(events)
        if phase is SchedulerPhase.STARTING and self.model.phase is SchedulerPhase.RUNNING:
            self._plan()
            # The table needs each task's last run; a detail screen asks for more.
            self.load_history(list(self.model.tasks), limit=1)
        else:
            self._plan({e.task_id for e in events if isinstance(e, _PLAN_CHANGING)})
        self._close_screens_of_gone_tasks()  # a task removed while its details were open
        self._model_changed()

    def _plan_all_if_due(self, late: float = 0.5) -> bool:
        """Read every task's next firing if the last full read is a second old (`late`
        more for the timer, so that bursts of runs, which come every second in a busy
        app, do it first). Returns whether it did."""
        if time.monotonic() - self._planned_all < 1.0 + late:
            return False
        self._plan()
        return True

    def _plan(self, tasks: Collection[UUID] | None = None) -> None:
        """Read the next firings of `tasks` (default: all) while the scheduler runs."""
        if self.model.phase is not SchedulerPhase.RUNNING or (tasks is not None and not tasks):
            return
        before = self.model.version
        if tasks is not None and 2 * len(tasks) >= len(self.model.tasks):
            tasks = None  # most of them: reading all is cheaper than looking each one up
        if tasks is None:
            self._planned_all = time.monotonic()
        self.model.plan(self.source.next_fire_times(tasks))
        if tasks is None and self.model.version != before:
            self._model_changed()

    def load_history(self, task_ids: list[UUID], limit: int = RECENT_RUNS) -> None:
        """Fold the tasks' runs of earlier sessions into the model (answered later)."""
        self.source.load_history(task_ids, limit)

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        self.model.seed(message.runs, message.paused, before=self.session_started)
        self._model_changed()

    def on_logs_arrived(self, _: LogsArrived) -> None:
        entries = self.inbox.drain_logs(self.now())
        for entry in entries:
            self.logbook.add(entry)
        for handler in self._screen_handlers("logs_added"):
            handler(entries)

    def on_command_answered(self, message: CommandAnswered) -> None:
        # The row shows what a command did; its answer goes in the header, not a toast.
        headers = self.screen.query(StatusHeader)
        for header in headers:
            header.flash(message.text, message.severity)
        if not headers:
            severity: SeverityLevel = message.severity  # type: ignore[assignment]
            self.notify(inert(message.text), severity=severity, timeout=3, markup=False)

    def deliver_screenshot(
        self, filename: str | None = None, path: str | None = None, time_format: str | None = None
    ) -> str | None:
        """Screenshots go to `screenshot_dir` (the current directory unless the CLI's
        --screenshot-dir says otherwise), not the Downloads folder; a toast says where."""
        return super().deliver_screenshot(filename, path or str(self.screenshot_dir), time_format)

    def on_host_stopped(self, _: HostStopped) -> None:
        if self.source.error is not None:
            self.model.phase = SchedulerPhase.CRASHED
            self.notify(
                inert(f"The scheduler crashed: {self.source.error!r}"),
                severity="error",
                timeout=30,
                markup=False,
            )
        elif self.model.phase is not SchedulerPhase.STOPPED:
            self.model.phase = SchedulerPhase.STOPPED
        self._model_changed()
        if self.stop_requests and not self.source.abandoned:
            self.exit(0)

    # ----- a remote source's connection -------------------------------------------------
    def on_snapshot_arrived(self, message: SnapshotArrived) -> None:
        """(Re)connected: start over from the app's state then, and fold in what came after."""
        taken = self.inbox.take_snapshot()
        if taken is None:
            return
        snapshot = taken[0]  # what came before is the old connection's: the snapshot counts it
        self.title = self.source.name = snapshot.app_name
        for screen in self.screen_stack:
            for header in screen.query(StatusHeader):
                header.app_name = snapshot.app_name
                header.refresh()
        self.model.restart(snapshot.tasks, snapshot.phase)
        self._close_screens_of_gone_tasks()
        self.session_started = snapshot.at
        self._planned_all = time.monotonic()
        if snapshot.phase is SchedulerPhase.RUNNING:
            self.load_history(list(self.model.tasks), limit=1)
        self.model.apply(self.inbox.drain_events())
        self.on_runs_arrived(None)

    def _close_screens_of_gone_tasks(self) -> None:
        """After a restart the app may have other tasks: back to the table if a screen
        shows one that is gone."""

        gone = any(
            isinstance(screen, DetailScreen) and screen.task_id not in self.model.tasks
            for screen in self.screen_stack
        )
        while gone and not isinstance(self.screen, MainScreen):
            self.pop_screen()

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        if message.connected:
            self.notify(message.text, title="Connected", timeout=3, markup=False)
            return
        self.model.phase = SchedulerPhase.DISCONNECTED
        self.model.version += 1
        self.notify(message.text, title="Disconnected, retrying", severity="warning", markup=False)
        self._model_changed()

    def on_replicas_changed(self, message: ReplicasChanged) -> None:
        if list(message.replicas) != self.model.replicas:
            self.model.replicas = list(message.replicas)
            self.model.version += 1
            self._model_changed()

    def _model_changed(self) -> None:
        for handler in self._screen_handlers("model_changed"):
            handler()

    def _screen_handlers(self, name: str) -> list[Callable[..., None]]:
        """The method `name` of each screen that has one and is mounted (a screen just
        pushed has no widgets to update yet; it reads the model when it mounts). None once
        the console shuts down: it removes each screen's widgets before the screen, and a
        beat in between would find a screen without its table."""
        if not self.is_running:
            return []
        handlers = (
            getattr(screen, name, None)
            for screen in self.screen_stack
            if screen.is_mounted and screen.is_running and screen.is_attached
        )
        return [handler for handler in handlers if handler is not None]


def _local_zone() -> tzinfo:
    return datetime.now(timezone.utc).astimezone().tzinfo or timezone.utc


def make_app(
    target: AioClock,
    *,
    display_tz: tzinfo | None = None,
    paused: bool = False,
    handle_signals: bool = False,
    capture_logs: bool = True,
    redraw_interval: float = 0.1,
    socket_path: Path | None = None,
    screenshot_dir: Path | None = None,
) -> ClockConsole:
    """Build the console that hosts `target` (used by the CLI and the tests).

    Args:
        target: The app to host; it is served when the console mounts.
        display_tz: Zone of the times shown (default: the machine's local zone).
        paused: Pause every task as soon as the scheduler starts.
        handle_signals: Quit gracefully on SIGINT and SIGTERM (the CLI sets it).
        capture_logs: Show log records in the log panes (a handler on the root logger).
        redraw_interval: Seconds between two redraws of the table for runs and events.
        socket_path: Serve a control socket there while the app runs (None: none), for
            `clocktui attach`.
        screenshot_dir: Where the palette's Screenshot command saves (default: the
            current directory).
    """
    control = None
    if socket_path is not None:
        from clocktui.control_server import ControlServer

        control = ControlServer(socket_path)
    source = InProcessSource(target, paused=paused, capture_logs=capture_logs, control=control)
    return ClockConsole(
        source,
        display_tz=display_tz,
        handle_signals=handle_signals,
        redraw_interval=redraw_interval,
        screenshot_dir=screenshot_dir,
    )
