"""DetailScreen: one task's trigger, next firings, recent runs, last traceback and logs."""

from __future__ import annotations

import concurrent.futures
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar
from uuid import UUID

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Sparkline, Static

from aioclock_core.exceptions import SchedulerNotRunningError
from clocktui.control import STEERING_ACTIONS
from clocktui.formatting import format_duration, format_instant, inert, outcome_word
from clocktui.logbook import LogEntry
from clocktui.model import TaskView
from clocktui.sources.base import SourceUnavailable
from clocktui.widgets.log_pane import LogPane

if TYPE_CHECKING:
    from clocktui.app import ClockConsole

__all__ = ["DetailScreen"]

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


class DetailScreen(Screen[None]):
    """Everything the console knows about one task."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("r", "run", "Run now"),
        Binding("p", "pause", "Pause/resume"),
        Binding("c", "cancel", "Cancel run"),
    ]

    def __init__(self, task_id: UUID) -> None:
        super().__init__()
        self.task_id = task_id
        self._shown_next: datetime | None = None
        self._shown_runs = -1

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
        with Horizontal(id="detail-top"):
            yield Static(id="facts")
            yield Static(id="upcoming")
        with Horizontal(id="detail-middle"):
            with Vertical(id="runs-column"):
                yield DataTable(id="runs", cursor_type="none", zebra_stripes=True)
                yield Sparkline([], id="durations")
            with VerticalScroll(id="error-box"):
                yield Static(id="error")
        yield LogPane(console.logbook, console.zone, id="task-logs")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#runs", DataTable)
        table.add_columns("Started", "Took", "Outcome", "Kind", "Result")
        self.query_one("#durations").border_title = "Durations"
        self.query_one("#runs").border_title = "Recent runs"
        self.query_one("#error-box").border_title = "Last error"
        self.query_one("#upcoming").border_title = f"Next {UPCOMING} firings"
        self.query_one("#facts").border_title = self.view.name
        self.query_one(LogPane).show(self.task_id, f"Logs: {self.view.name}")
        self.console.load_history([self.task_id])
        self.model_changed()

    # ----- model updates (called by the app) ----------------------------------------
    def model_changed(self) -> None:
        view = self.view
        self.query_one("#facts", Static).update(self._facts(view))
        if view.recent_changes != self._shown_runs:
            self._shown_runs = view.recent_changes
            self._show_runs(view)
        if view.next_fire_time != self._shown_next or self._shown_runs == 0:
            self._shown_next = view.next_fire_time
            self._ask_upcoming()

    def logs_added(self, entries: list[LogEntry]) -> None:
        self.query_one(LogPane).append(entries)

    def _facts(self, view: TaskView) -> Text:
        console = self.console
        now = console.now()
        rows = [
            ("Trigger", view.trigger),
            ("Group", view.group or "–"),
            ("State", view.state_text),
            ("Timeout", format_duration(view.timeout) if view.timeout else "none"),
            ("Next run", format_instant(view.next_fire_time, now, console.zone) or "–"),
            ("Runs", f"{view.run_count}  ({view.failure_count} failed, {view.skip_count} skipped)"),
            ("Id", str(view.task_id)),
        ]
        text = Text()
        for label, value in rows:
            text.append(f"{label:<9}", "bold")
            text.append(f"{value}\n", _state_style(view) if label == "State" else "")
        text.rstrip()
        return text

    def _show_runs(self, view: TaskView) -> None:
        console = self.console
        now = console.now()
        table = self.query_one("#runs", DataTable)
        table.clear()
        for record in reversed(view.recent):
            style = "red" if record.failed else ""
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
            )
        self.query_one("#durations", Sparkline).data = [r.duration or 0.0 for r in view.recent]
        error = self.query_one("#error", Static)
        failure = view.last_failure
        if failure is None:
            error.update(Text("No failure yet", "dim"))
            return
        shown = (failure.traceback or view.last_error or "").rstrip()
        text = Text(inert(shown, multiline=True), "red", overflow="fold")
        if failure.logs:  # what the failed run logged itself, after its traceback
            text.append(f"\n\nLogged by this run ({len(failure.logs)} lines):\n", "bold")
            for line in failure.logs:
                when = format_instant(line.at, now, console.zone)
                text.append(f"{when} {line.level:<7} {inert(_one_line(line.message))}\n")
        error.update(text)

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
        self.console.controller.cancel(self.view)


def _state_style(view: TaskView) -> str:
    if view.overrunning:
        return "bold yellow"
    return "red" if view.failing else ""
