"""HelpScreen: the table of keys (the README's key table says the same, a test checks)."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["HelpScreen", "KEYS", "NOTES"]

KEYS = (
    ("r", "Run the selected task now (a manual run)"),
    ("p", "Pause or resume the selected task"),
    ("P", "Pause every task, or resume them all if all are paused (asks first)"),
    ("c", "Cancel the selected task's running run (asks first)"),
    (
        "enter",
        "Details: facts, next firings, recent runs (↑ ↓ opens any run: its logs, "
        "traceback, return value, lag), durations with their scale",
    ),
    (
        "/",
        "Filter tasks: words, is:failing is:running is:paused is:late, group:NAME (escape clears)",
    ),
    ("s", "Cycle the sort: name, next run, state, failures, last run, group"),
    ("S", "Reverse the sort"),
    ("f / F", "Jump to the next / previous failing task"),
    ("↑ ↓ j k", "Move the selection (pgup pgdn: a page; home g, end G: first, last)"),
    ("tab", "Move between the task table and the log pane"),
    ("l", "Log pane: all tasks, or the selected task only"),
    ("v", "Log pane: the lowest level shown (all, INFO, WARNING, ERROR)"),
    (
        "↑ k pgup g",
        "In the log pane: scroll back; it stops following (“paused”); ← → scroll sideways",
    ),
    ("end G", "In the log pane: follow new lines again"),
    ("/ (log pane)", "Search the logs (escape clears)"),
    ("t", "Timeline of the shown tasks' coming firings (+ / - for a day or a week)"),
    (
        "ctrl+p",
        "Command palette: Run / Pause / Resume <task>; Screenshot (saved in the "
        "current directory or --screenshot-dir)",
    ),
    ("?", "This help"),
    (
        "q",
        "Quit: stop triggers, let runs finish, exit the lifespan (asks first while runs "
        "are in flight)",
    ),
    ("q again", "Cancel the running runs now (a third q leaves at once)"),
    ("ctrl+q", "Quit without asking"),
)
"""Every key of the console and what it does."""

NOTES = (
    "Keys that ask first (… in the footer) take the same key again or y to confirm; any "
    "other key says no.",
    "On a narrow terminal the columns Group, Trigger, Skips, Runs, Next run and Took give "
    "way, in that order; Task, State, In, Last run, Outcome and Fails stay.",
)
"""What the help says below the keys."""


class HelpScreen(ModalScreen[None]):
    """A modal table of keys; any of escape, ? or q closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Close"),
        Binding("question_mark", "app.pop_screen", "Close", show=False),
        Binding("q", "app.pop_screen", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold", padding=(0, 2))
        table.add_column("Key", style="bold cyan", no_wrap=True)
        table.add_column("Action")
        for key, action in KEYS:
            table.add_row(key, action)
        with VerticalScroll(id="help-box"):
            yield Static(table, id="help-keys")
            for note in NOTES:
                yield Static(note, classes="help-note", markup=False)
            yield Static("escape closes", id="help-hint")

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = "Keys"
