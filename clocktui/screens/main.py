"""MainScreen: the status line, the task table with its filter, and the log pane."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from clocktui.control import STEERING_ACTIONS
from clocktui.logbook import LogEntry
from clocktui.screens.confirm import ask_cancel, ask_pause_all
from clocktui.widgets.log_pane import LogPane
from clocktui.widgets.replica_list import ReplicaList
from clocktui.widgets.status_header import StatusHeader
from clocktui.widgets.task_table import TaskTable

if TYPE_CHECKING:
    from clocktui.app import ClockConsole

__all__ = ["MainScreen"]

_SORT_NAMES = {
    "name": "name",
    "next": "next run",
    "state": "state",
    "failures": "failures",
    "last": "last run",
    "group": "group",
}


class MainScreen(Screen[None]):
    """Every task at a glance, with k9s-style keys."""

    # The footer shows them in this order as far as the width goes: help first.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("?", "help", "Help"),
        Binding("r", "run", "Run now"),
        Binding("p", "pause", "Pause/resume"),
        Binding("P", "pause_all", "Pause all…", key_display="P"),
        Binding("c", "cancel", "Cancel run…"),
        Binding("enter", "details", "Details"),
        Binding("/", "filter", "Filter"),
        Binding("s", "sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse sort", show=False, key_display="S"),
        Binding("l", "logs", "Logs all/task"),
        Binding("v", "log_level", "Log level", show=False),
        Binding("t", "timeline", "Timeline"),
        Binding("escape", "clear", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.logs_of_selected = False
        self._rebuild_pending = False
        self._last_rebuild = 0.0

    @property
    def console(self) -> ClockConsole:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        console = self.console
        fleet = console.source.shows_replicas
        yield StatusHeader(console.title, console.model, console.now, console.zone)
        with Horizontal(id="filter-bar"):
            yield Input(
                placeholder="Filter: words, is:failing is:running is:paused is:late, group:NAME",
                id="filter",
                compact=True,
            )
            yield Static(id="filter-count")
        yield TaskTable(console.model, console.now, console.zone, id="tasks", replica_column=fleet)
        if fleet:
            yield ReplicaList(console.model, console.now, console.zone)
        yield Input(placeholder="Search the logs", id="log-search", compact=True)
        yield LogPane(console.logbook, console.zone, id="logs")
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (self.console.read_only and action in STEERING_ACTIONS)

    def on_mount(self) -> None:
        self.table.rebuild()
        self.log_pane.show(None, "Logs: all tasks")
        self.table.focus()  # (the app's heartbeat calls tick)

    @property
    def table(self) -> TaskTable:
        return self.query_one(TaskTable)

    @property
    def log_pane(self) -> LogPane:
        return self.query_one(LogPane)

    @property
    def header(self) -> StatusHeader:
        return self.query_one(StatusHeader)

    def tick(self) -> None:
        """Countdowns and the clock moved on: redraw what changed on screen (the app's
        heartbeat calls this between bursts of firings)."""
        self.table.redraw_changed()
        self.header.redraw_changed()

    # ----- model updates (called by the app) ----------------------------------------
    def model_changed(self) -> None:
        """Runs or events arrived: redraw (and re-sort) at once, then at most every
        `redraw_interval` seconds however many batches arrive meanwhile. A herd of
        thousands of firings a second would otherwise redraw the screen per batch."""
        if self._rebuild_pending:
            return
        self._rebuild_pending = True
        wait = self._last_rebuild + self.console.redraw_interval - time.monotonic()
        if wait > 0:
            self.set_timer(wait, self._rebuild)
        else:
            self.call_after_refresh(self._rebuild)

    @property
    def redraw_pending(self) -> bool:
        """Whether a model change waits to be drawn."""
        return self._rebuild_pending

    def _rebuild(self) -> None:
        self._rebuild_pending = False
        self._last_rebuild = time.monotonic()
        self.table.model_updated()
        self.header.redraw_changed()
        for replicas in self.query(ReplicaList):
            replicas.redraw_changed()

    def logs_added(self, entries: list[LogEntry]) -> None:
        # (Records can arrive before the pane is composed: it reads the logbook then.)
        for pane in self.query(LogPane):
            pane.append(entries)

    # ----- actions ---------------------------------------------------------------------
    def action_run(self) -> None:
        if (view := self.table.selected) is not None:
            self.console.controller.run_now(view)

    def action_pause(self) -> None:
        if (view := self.table.selected) is not None:
            self.console.controller.toggle_pause(view)

    def action_pause_all(self) -> None:
        ask_pause_all(self.console)

    def action_cancel(self) -> None:
        if (view := self.table.selected) is not None:
            ask_cancel(self.console, view, self.header)

    def action_details(self) -> None:
        if (view := self.table.selected) is not None:
            from clocktui.screens.detail import DetailScreen

            self.app.push_screen(DetailScreen(view.task_id))

    def action_timeline(self) -> None:
        from clocktui.screens.timeline import TimelineScreen

        selected = self.table.selected
        order = list(self.table.order)
        self.app.push_screen(TimelineScreen(order, selected.task_id if selected else None))

    def action_help(self) -> None:
        from clocktui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen())

    def action_sort(self) -> None:
        key = self.table.cycle_sort()
        self.header.flash(f"Sorted by {_SORT_NAMES.get(key, key)}")

    def action_reverse_sort(self) -> None:
        descending = self.table.reverse_sort()
        key = self.table.sort_key
        order = "descending" if descending else "ascending"
        self.header.flash(f"Sorted by {_SORT_NAMES.get(key, key)}, {order}")

    def action_logs(self) -> None:
        self.logs_of_selected = not self.logs_of_selected
        self._show_logs()

    def action_log_level(self) -> None:
        self.log_pane.action_cycle_level()

    def _show_logs(self) -> None:
        view = self.table.selected
        if self.logs_of_selected and view is not None:
            self.log_pane.show(view.task_id, f"Logs: {view.name}")
        else:
            self.log_pane.show(None, "Logs: all tasks")

    @on(TaskTable.Highlighted)
    def _follow_selection(self) -> None:
        if self.logs_of_selected:
            self._show_logs()

    # ----- filter and log search ---------------------------------------------------------
    def action_filter(self) -> None:
        self.query_one("#filter-bar").add_class("-shown")
        self.query_one("#filter", Input).focus()

    def action_clear(self) -> None:
        """Escape: clear the log search if the logs have focus, else the filter."""
        search = self.query_one("#log-search", Input)
        if search.has_focus or (self.log_pane.has_focus and search.value):
            search.value = ""
            search.remove_class("-shown")
            self.log_pane.focus()
            return
        self.query_one("#filter", Input).value = ""
        self.query_one("#filter-bar").remove_class("-shown")
        self.table.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value:
            self.query_one("#filter-bar").remove_class("-shown")
        self.table.focus()

    @on(TaskTable.Counted)
    def _show_count(self, event: TaskTable.Counted) -> None:
        self.query_one("#filter-count", Static).update(f"{event.shown:,} of {event.total:,}")

    @on(LogPane.SearchAsked)
    def _search_logs(self) -> None:
        search = self.query_one("#log-search", Input)
        search.add_class("-shown")
        search.focus()

    @on(Input.Changed, "#log-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.log_pane.set_search(event.value)

    @on(Input.Submitted, "#log-search")
    def _search_done(self, event: Input.Submitted) -> None:
        if not event.value:
            event.input.remove_class("-shown")
        self.log_pane.focus()
