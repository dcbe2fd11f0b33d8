"""HelpScreen: the table of keys."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["HelpScreen", "KEYS"]

KEYS = (
    ("r", "Run the selected task now (a manual run)"),
    ("p", "Pause or resume the selected task"),
    ("P", "Pause every task, or resume them all if all are paused"),
    ("c", "Cancel the selected task's running run"),
    ("enter", "Open the selected task's details"),
    ("/", "Filter tasks by name or group (escape clears)"),
    ("s", "Cycle the sort: name, next run, state, failures, last run, group"),
    ("l", "Show all logs, or only the selected task's"),
    ("t", "Timeline of the shown tasks' coming firings (+ / - for a day or a week)"),
    ("↑ ↓ pgup pgdn", "Move the selection"),
    ("ctrl+p", "Command palette: Run / Pause / Resume <task>"),
    ("?", "This help"),
    ("q  ctrl+q", "Quit: stop triggers, let runs finish, exit the lifespan"),
    ("q again", "Cancel the running runs now (a third q leaves at once)"),
)
"""Every key of the console and what it does."""


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
        with Vertical(id="help-box"):
            yield Static(table, id="help-keys")
            yield Static("escape closes", id="help-hint")

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = "Keys"
