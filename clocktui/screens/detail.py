"""DetailScreen: one task's trigger, next firings and recent runs; any of its runs opened
with its logs, traceback and return value; and the task's live logs."""

from __future__ import annotations

import concurrent.futures
import statistics
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, ClassVar
from uuid import UUID

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Sparkline, Static

from aioclock_core.exceptions import SchedulerNotRunningError
from aioclock_core.runs import RunRecord
from clocktui.control import STEERING_ACTIONS
from clocktui.formatting import format_ago, format_duration, format_instant, inert, outcome_word
from clocktui.logbook import LogEntry
from clocktui.model import TaskView
from clocktui.screens.confirm import ask_cancel
from clocktui.sources.base import SourceUnavailable
from clocktui.tracebacks import from_user_frame
from clocktui.widgets.log_pane import LogPane
from clocktui.widgets.status_header import StatusHeader

if TYPE_CHECKING:
    from clocktui.app import ClockConsole

__all__ = ["DetailScreen", "describe_run", "duration_scale"]

UPCOMING = 5


class UpcomingArrived(Message):
    """The scheduler answered which instants the task fires at next."""

    def __init__(self, instants: list[datetime] | None, error: str | None = None) -> None:
        super().__init__()
        self.instants = instants
        self.error = error


def _one_line(text: str, width: int = 60) -> str:
    """The first line of `text`, cut to `width` characters."""
    first = text.splitlines()[0] if text else ""
    return first if len(first) <= width else first[: width - 1] + "…"


def duration_scale(durations: list[float]) -> tuple[str, str]:
    """The scale of the durations chart, for its top and bottom borders: ``max 1.2 s``
    and ``min 12 ms · p50 40 ms`` (empty without runs)."""
    if not durations:
        return "", ""
    low, middle, high = min(durations), statistics.median(durations), max(durations)
    return (
        f"max {format_duration(high)}",
        f"min {format_duration(low)} · p50 {format_duration(middle)}",
    )


def describe_run(run: RunRecord, now: datetime, zone: tzinfo) -> Text:
    """Everything a run record holds, for the run panel: when it was due and started (and
    how late), how it ended, its attempt and replica, its return value or error, its
    traceback from the task's own frame, and the lines it logged."""
    text = Text(overflow="fold")

    def row(label: str, value: str, style: str = "") -> None:
        text.append(f"{label:<10}", "bold")
        text.append(f"{value}\n", style)

    outcome = outcome_word(run.outcome) or "running"
    row("Outcome", outcome, "bold red" if run.failed else "")
    row("Kind", run.kind.value)
    row("Scheduled", format_ago(run.scheduled_for, now, zone))
    row("Started", format_ago(run.started_at, now, zone))
    row("Late by", format_duration((run.started_at - run.scheduled_for).total_seconds()))
    if run.ended_at is not None:
        row("Ended", format_ago(run.ended_at, now, zone))
    row("Took", format_duration(run.duration) or "–")
    row("Attempt", str(run.attempt))
    if run.replica:
        row("Replica", inert(run.replica))
    if run.result is not None:
        row("Returned", inert(run.result, multiline=True))
    if run.error:
        row("Error", inert(run.error, multiline=True), "red")
    if run.traceback:
        text.append("\n")
        text.append(inert(from_user_frame(run.traceback).rstrip(), multiline=True), "red")
        text.append("\n")
    if run.logs:
        noun = "line" if len(run.logs) == 1 else "lines"
        text.append(f"\nLogged by this run ({len(run.logs)} {noun}):\n", "bold")
        for line in run.logs:
            when = format_instant(line.at, now, zone)
            text.append(f"{when} {line.level:<7} {inert(_one_line(line.message))}\n")
    text.rstrip()
    return text


class DetailScreen(Screen[None]):
    """Everything the console knows about one task; ↑/↓ in Recent runs opens any run."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("r", "run", "Run now"),
        Binding("p", "pause", "Pause/resume"),
        Binding("c", "cancel", "Cancel run…"),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    holds_toasts = True
    """Failure toasts wait while this screen shows (they would hide its traceback)."""

    def __init__(self, task_id: UUID) -> None:
        super().__init__()
        self.task_id = task_id
        self.shown_run: UUID | None = None
        """The run the run panel shows."""
        self._shown_next: datetime | None = None
        self._shown_runs = -1
        self._runs: list[RunRecord] = []

    @property
    def console(self) -> ClockConsole:
        return self.app  # type: ignore[return-value]

    @property
    def view(self) -> TaskView:
        return self.console.model.tasks[self.task_id]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (self.console.read_only and action in STEERING_ACTIONS)

    def compose(self) -> ComposeResult:
        console = self.console
        yield StatusHeader(console.title, console.model, console.now, console.zone)
        with Horizontal(id="detail-top"):
            yield Static(id="facts")
            yield Static(id="upcoming")
        with Horizontal(id="detail-middle"):
            with Vertical(id="runs-column"):
                yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
                yield Sparkline([], id="durations")
            with VerticalScroll(id="run-box"):
                yield Static(id="run")
        yield LogPane(console.logbook, console.zone, id="task-logs")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#runs", DataTable)
        table.add_columns("Started", "Took", "Outcome", "Kind", "Result")
        self.query_one("#durations").border_title = "Durations"
        table.border_title = "Recent runs"
        self.query_one("#run-box").border_title = "Run"
        self.query_one("#upcoming").border_title = f"Next {UPCOMING} firings"
        self.query_one("#facts").border_title = self.view.name
        self.query_one(LogPane).show(self.task_id, f"Logs: {self.view.name}")
        # A large app's views keep a few runs each: this one keeps RECENT_RUNS while
        # open, read from the history now and kept as they come.
        self.console.model.widen(self.task_id)
        self.console.load_history([self.task_id])
        self.model_changed()
        table.focus()
        self.app.clear_notifications()  # toasts never cover the run panel

    def on_unmount(self) -> None:
        self.console.model.narrow(self.task_id)

    def tick(self) -> None:
        """The clock moved on: the header, and the times that say how long ago."""
        self.query_one(StatusHeader).redraw_changed()
        self.query_one("#facts", Static).update(self._facts(self.view))
        shown = next((run for run in self._runs if run.run_id == self.shown_run), None)
        if shown is not None:
            self._show_run(shown)

    # ----- model updates (called by the app) ----------------------------------------
    def model_changed(self) -> None:
        view = self.view
        self.query_one(StatusHeader).redraw_changed()
        self.query_one("#facts", Static).update(self._facts(view))
        if view.recent_changes != self._shown_runs:
            self._shown_runs = view.recent_changes
            self._show_runs(view)
        if view.next_fire_time != self._shown_next or self._shown_runs == 0:
            self._shown_next = view.next_fire_time
            self._ask_upcoming()

    def logs_added(self, entries: list[LogEntry]) -> None:
        for pane in self.query(LogPane):
            pane.append(entries)

    def _facts(self, view: TaskView) -> Text:
        console = self.console
        now = console.now()
        zone = console.zone
        state = view.state_text
        if view.running_since is not None:
            state = f"running since {format_ago(view.running_since, now, zone)}"
        last = view.last_run
        last_text = "–"
        if last is not None:
            last_text = f"{format_ago(last.started_at, now, zone)}, {outcome_word(last.outcome)}"
        counts = f"{view.failure_count} failed, {view.skip_count} skipped"
        rows = [
            ("Trigger", view.trigger),
            ("Group", view.group or "–"),
            ("State", state),
            ("Timeout", format_duration(view.timeout) if view.timeout else "none"),
            ("Next run", format_ago(view.next_fire_time, now, zone) or "–"),
            ("Last run", last_text),
            ("Runs", f"{view.run_count}  ({counts})"),
            ("Id", str(view.task_id)),
        ]
        text = Text(no_wrap=True, overflow="ellipsis")
        for label, value in rows:
            text.append(f"{label:<9}", "bold")
            if label == "State":
                style = _state_style(view)
            else:
                style = "bold red" if label == "Last run" and view.failing else ""
            text.append(f"{value}\n", style)
        text.rstrip()
        return text

    def _show_runs(self, view: TaskView) -> None:
        console = self.console
        now = console.now()
        table = self.query_one("#runs", DataTable)
        runs = list(reversed(view.recent))
        on_latest = self.shown_run is None or (
            bool(self._runs) and self.shown_run == self._runs[0].run_id
        )
        self._runs = runs
        table.clear()
        for record in runs:
            style = "bold red" if record.failed else ""
            table.add_row(
                Text(format_instant(record.started_at, now, console.zone)),
                Text(format_duration(record.duration)),
                Text(outcome_word(record.outcome), style),
                Text(
                    f"{record.kind.value} {record.attempt}"
                    if record.attempt > 1
                    else record.kind.value
                ),
                Text(inert(_one_line(record.result or record.error or ""))),
                key=str(record.run_id),
            )
        durations = [r.duration or 0.0 for r in view.recent]
        chart = self.query_one("#durations", Sparkline)
        chart.data = durations
        top, bottom = duration_scale(durations)
        chart.border_title = f"Durations · {top}" if top else "Durations"
        chart.border_subtitle = bottom
        ids = [run.run_id for run in runs]
        if not runs:
            self.shown_run = None
            self._show_run(None)
            return
        keep = self.shown_run if self.shown_run in ids and not on_latest else ids[0]
        table.move_cursor(row=ids.index(keep), animate=False)
        self._show_run(runs[ids.index(keep)])

    @on(DataTable.RowHighlighted, "#runs")
    def _run_highlighted(self, event: DataTable.RowHighlighted) -> None:
        run = next((r for r in self._runs if str(r.run_id) == event.row_key.value), None)
        if run is not None and run.run_id != self.shown_run:
            self._show_run(run)

    def open_run(self, run_id: UUID) -> None:
        """Show one of the recent runs in the run panel."""
        ids = [run.run_id for run in self._runs]
        if run_id in ids:
            self.query_one("#runs", DataTable).move_cursor(row=ids.index(run_id), animate=False)
            self._show_run(self._runs[ids.index(run_id)])

    def _show_run(self, run: RunRecord | None) -> None:
        box = self.query_one("#run-box")
        panel = self.query_one("#run", Static)
        if run is None:
            self.shown_run = None
            box.border_title = "Run"
            panel.update(Text("No run yet", "dim"))
            return
        console = self.console
        self.shown_run = run.run_id
        when = format_instant(run.started_at, console.now(), console.zone)
        box.border_title = f"Run of {when}"
        panel.update(describe_run(run, console.now(), console.zone))

    def _ask_upcoming(self) -> None:
        future = self.console.source.upcoming(self.task_id, UPCOMING)

        def done(future: concurrent.futures.Future[list[datetime]]) -> None:
            if future.cancelled():
                return
            error = future.exception()
            if isinstance(error, (SchedulerNotRunningError, SourceUnavailable)):
                self.post_message(UpcomingArrived(None, str(error)))
            elif error is not None:
                self.post_message(UpcomingArrived(None, f"{type(error).__name__}: {error}"))
            else:
                self.post_message(UpcomingArrived(future.result()))

        future.add_done_callback(done)

    def on_upcoming_arrived(self, message: UpcomingArrived) -> None:
        if message.instants is None:
            self.query_one("#upcoming", Static).update(Text(message.error or "", "dim"))
        else:
            self._show_upcoming(message.instants)

    def _show_upcoming(self, instants: list[datetime]) -> None:
        console = self.console
        lines = [f"{instant.astimezone(console.zone):%a %Y-%m-%d %H:%M:%S}" for instant in instants]
        self.query_one("#upcoming", Static).update(Text("\n".join(lines) or "no more firings"))

    # ----- actions ---------------------------------------------------------------------
    def action_run(self) -> None:
        self.console.controller.run_now(self.view)

    def action_pause(self) -> None:
        self.console.controller.toggle_pause(self.view)

    def action_cancel(self) -> None:
        ask_cancel(self.console, self.view, self.query_one(StatusHeader))


def _state_style(view: TaskView) -> str:
    if view.overrunning:
        return "bold yellow"
    return "red" if view.failing else ""
