"""LogPane: the captured log records, all of them or one task's only."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import tzinfo
from uuid import UUID

from rich.text import Text
from textual.widgets import RichLog

from clocktui.formatting import inert
from clocktui.logbook import LogBook, LogEntry

__all__ = ["LogPane", "format_entry"]

_LEVEL_STYLES = {
    logging.DEBUG: "dim",
    logging.INFO: "green",
    logging.WARNING: "yellow",
    logging.ERROR: "bold red",
    logging.CRITICAL: "bold white on red",
}


def format_entry(entry: LogEntry, zone: tzinfo, *, with_traceback: bool = False) -> Text:
    """``12:00:05 INFO  [task] message`` with the level coloured; never parses markup.

    A record's traceback is left out unless `with_traceback` (one task's pane shows it;
    the pane of every task would drown in them)."""
    level = logging.getLevelName(entry.level)
    style = _LEVEL_STYLES.get(entry.level, "")
    source = inert(entry.task_name or entry.logger)
    text = Text.assemble(
        (f"{entry.at.astimezone(zone):%H:%M:%S} ", "dim"),
        (f"{level:<8}", style),
        (f"[{source}] ", "cyan" if entry.task_name else "magenta"),
        (inert(entry.message, multiline=True), "red" if entry.level >= logging.ERROR else ""),
    )
    if entry.exception:
        if with_traceback:
            text.append(f"\n{inert(entry.exception, multiline=True)}", "red")
        else:
            text.append("  (traceback in details)", "dim")
    return text


class LogPane(RichLog):
    """A log view of a `LogBook`; `task_id` None shows every record."""

    def __init__(self, book: LogBook, zone: tzinfo, *, id: str | None = None) -> None:
        super().__init__(max_lines=1000, wrap=False, markup=False, id=id)
        self.book = book
        self.zone = zone
        self.task_id: UUID | None = None

    def show(self, task_id: UUID | None, title: str) -> None:
        """Switch to one task's records (or all with None) and redraw."""
        self.task_id = task_id
        self.border_title = title
        self.clear()
        kept = self.book.entries if task_id is None else self.book.of_task(task_id)
        self._write(list(kept)[-self.max_lines :] if self.max_lines else kept)

    def append(self, entries: Iterable[LogEntry]) -> None:
        """Write the new records this pane shows."""
        self._write(e for e in entries if self.task_id is None or e.task_id == self.task_id)

    def _write(self, entries: Iterable[LogEntry]) -> None:
        for entry in entries:
            self.write(format_entry(entry, self.zone, with_traceback=self.task_id is not None))
