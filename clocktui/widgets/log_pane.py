"""LogPane: a Line-API view of captured log records that follows new lines until the user
scrolls up, with a lowest level and a search, in bounded memory."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import tzinfo
from typing import ClassVar
from uuid import UUID

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from clocktui.formatting import inert
from clocktui.logbook import SCROLLBACK, LogBook, LogEntry
from clocktui.tracebacks import from_user_frame

__all__ = ["LogPane", "LEVELS", "PAUSED_MARK"]

_LEVEL_CLASSES = {
    logging.DEBUG: "log-pane--debug",
    logging.INFO: "log-pane--info",
    logging.WARNING: "log-pane--warning",
    logging.ERROR: "log-pane--error",
    logging.CRITICAL: "log-pane--critical",
}
LEVELS = (logging.NOTSET, logging.INFO, logging.WARNING, logging.ERROR)
"""The lowest levels `v` cycles through (NOTSET: every record)."""
PAUSED_MARK = "paused — End to follow"
"""The pane's subtitle while it does not follow new lines."""
_PREFIX = 9 + 9 + 3
"""Cells of a line before its source's name: the time, the level, the brackets."""
_STRIPS_KEPT = 1024


_Row = tuple[LogEntry, int]
"""A line of the pane: a record and which of its lines (0: the record; more: its
traceback's lines, in a pane that shows tracebacks)."""


class LogPane(ScrollView, can_focus=True):
    """The records of a `LogBook` (`task_id` None: of every task), newest at the bottom.

    It follows new records while scrolled to the end; scrolling up pauses it (the
    subtitle says so, and the lines in view stay put) until End or G. Only lines in view
    are rendered, so a flood of records costs a deque append each.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "scroll_lines(-1)", "Up", show=False),
        Binding("down,j", "scroll_lines(1)", "Down", show=False),
        Binding("pageup", "scroll_lines(-0.9)", "Page up", show=False),
        Binding("pagedown", "scroll_lines(0.9)", "Page down", show=False),
        Binding("home,g", "top", "Top", show=False),
        Binding("end,G", "follow", "Follow"),
        Binding("v", "cycle_level", "Level"),
        Binding("slash", "search", "Search logs"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "log-pane--match",
        "log-pane--time",
        "log-pane--task",
        "log-pane--logger",
        "log-pane--traceback",
        *_LEVEL_CLASSES.values(),
    }

    class SearchAsked(Message):
        """The user asked to search the pane (`/` while it has focus)."""

    def __init__(
        self, book: LogBook, zone: tzinfo, *, scrollback: int = SCROLLBACK, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.book = book
        self.zone = zone
        self.task_id: UUID | None = None
        self.title = "Logs"
        self.min_level = logging.NOTSET
        self.search = ""
        self.following = True
        self.unseen = 0
        """Lines added while paused."""
        self.rows: deque[_Row] = deque(maxlen=scrollback)
        self._widest = 0
        self._strips: dict[tuple[object, ...], Strip] = {}

    # ----- what is shown -------------------------------------------------------------
    def show(self, task_id: UUID | None, title: str) -> None:
        """Switch to one task's records (or every task's with None) and follow them."""
        self.task_id = task_id
        self.title = title
        self._refill(follow=True)

    def set_min_level(self, level: int) -> None:
        """Show only records at `level` or above (NOTSET: all)."""
        self.min_level = level
        self._refill(follow=self.following)

    def action_cycle_level(self) -> None:
        """Show records from the next level of `LEVELS` up."""
        index = LEVELS.index(self.min_level) if self.min_level in LEVELS else 0
        self.set_min_level(LEVELS[(index + 1) % len(LEVELS)])

    def set_search(self, text: str) -> None:
        """Show only records whose source or message contains `text` (any case)."""
        self.search = text
        self._strips.clear()
        self._refill(follow=self.following)

    def action_search(self) -> None:
        self.post_message(self.SearchAsked())

    def _refill(self, *, follow: bool) -> None:
        kept: Sequence[LogEntry] = (
            self.book.entries if self.task_id is None else self.book.of_task(self.task_id)
        )
        self.rows.clear()
        self._widest = 0
        self._add(kept)
        self.unseen = 0
        self._update_title()
        self._resize()
        if follow:
            self.action_follow()
        else:
            self.refresh()

    def append(self, entries: Iterable[LogEntry]) -> None:
        """Add the new records this pane shows (in order)."""
        before = len(self.rows)
        added = self._add(entries)
        if not added:
            return
        if self.following:
            self._resize()
            self._scroll_y_to(self.max_scroll_y_for(len(self.rows)))
            self.refresh()
            return
        # Paused: the lines in view stay put, even as the oldest ones fall off the top.
        fell_off = max(0, before + added - (self.rows.maxlen or 0))
        self.unseen += added
        self._resize()
        if fell_off:
            self._scroll_y_to(max(0, self.scroll_offset.y - fell_off))
            self.refresh()
        self._update_title()

    def _add(self, entries: Iterable[LogEntry]) -> int:
        """Append the lines of the records this pane shows; returns how many."""
        rows = self.rows
        task_id, min_level = self.task_id, self.min_level
        needle = self.search.casefold()
        tracebacks = task_id is not None
        widest = self._widest
        added = 0
        for entry in entries:
            if task_id is not None and entry.task_id != task_id:
                continue
            if entry.level < min_level:
                continue
            if needle and needle not in _searchable(entry):
                continue
            rows.append((entry, 0))
            added += 1
            source = entry.task_name or entry.logger
            widest = max(widest, _PREFIX + len(source) + cell_len(entry.message))
            if tracebacks and entry.exception:
                trimmed = from_user_frame(entry.exception)
                for index, line in enumerate(trimmed.splitlines(), start=1):
                    rows.append((entry, index))
                    added += 1
                    widest = max(widest, cell_len(line))
        self._widest = widest
        return added

    # ----- following ---------------------------------------------------------------
    def _scroll_y_to(self, y: int) -> None:
        # At once, and even before a layout pass has shown the scrollbar that the new
        # lines call for (a deferred scroll would land after lines arrived meanwhile).
        self.scroll_to(y=y, animate=False, immediate=True, force=True)

    def max_scroll_y_for(self, lines: int) -> int:
        return max(0, lines - self.scrollable_content_region.height)

    def action_follow(self) -> None:
        """Scroll to the newest line and follow new ones."""
        self.following = True
        self.unseen = 0
        self._resize()
        self._scroll_y_to(self.max_scroll_y_for(len(self.rows)))
        self._update_title()
        self.refresh()

    def action_top(self) -> None:
        self._pause()
        self._scroll_y_to(0)

    def action_scroll_lines(self, lines: float) -> None:
        step = int(lines) if abs(lines) >= 1 else int(lines * self.scrollable_content_region.height)
        target = max(0, min(self.scroll_offset.y + step, self.max_scroll_y_for(len(self.rows))))
        if step < 0:
            self._pause()
        self._scroll_y_to(target)
        if step > 0 and target >= self.max_scroll_y_for(len(self.rows)):
            self.action_follow()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._pause()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self.call_after_refresh(self._follow_if_at_end)

    def _follow_if_at_end(self) -> None:
        if not self.following and self.scroll_offset.y >= self.max_scroll_y_for(len(self.rows)):
            self.action_follow()

    def _pause(self) -> None:
        if self.following and len(self.rows) > self.scrollable_content_region.height:
            self.following = False
            self._update_title()

    def _update_title(self) -> None:
        parts = [self.title]
        if self.min_level:
            parts.append(f"{logging.getLevelName(self.min_level)} and above")
        if self.search:
            parts.append(f"search {self.search!r}")
        self.border_title = " · ".join(parts)
        if self.following:
            self.border_subtitle = ""
        else:
            new = f" · {self.unseen:,} new" if self.unseen else ""
            self.border_subtitle = f"{PAUSED_MARK}{new}"

    def _resize(self) -> None:
        self.virtual_size = Size(self._widest, len(self.rows))

    def on_resize(self) -> None:
        if self.following:
            self.call_after_refresh(self.action_follow)

    # ----- drawing ---------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= len(self.rows):
            return Strip.blank(width, base)
        entry, line = self.rows[index]
        key = (entry, line, width, scroll_x, self.search, base)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._render_row(entry, line, base).crop_extend(
                scroll_x, scroll_x + width, base
            )
            if len(self._strips) >= _STRIPS_KEPT:
                self._strips.clear()
            self._strips[key] = strip
        return strip

    def _render_row(self, entry: LogEntry, line: int, base: Style) -> Strip:
        style = self.get_component_rich_style
        if line == 0:
            level = _LEVEL_CLASSES.get(entry.level, "log-pane--info")
            serious = entry.level >= logging.ERROR
            source = inert(entry.task_name or entry.logger)
            text = Text.assemble(
                (f"{entry.at.astimezone(self.zone):%H:%M:%S} ", style("log-pane--time")),
                (f"{logging.getLevelName(entry.level):<8}", style(level)),
                (
                    f"[{source}] ",
                    style("log-pane--task" if entry.task_name else "log-pane--logger"),
                ),
                (inert(entry.message.replace("\n", " ⏎ ")), style(level) if serious else Style()),
                no_wrap=True,
                end="",
            )
            if entry.exception and self.task_id is None:
                text.append("  (traceback in details)", style("log-pane--time"))
        else:
            lines = from_user_frame(entry.exception or "").splitlines()
            shown = lines[line - 1] if line <= len(lines) else ""
            text = Text(inert(shown), style("log-pane--traceback"), end="")
        if self.search:
            text.highlight_words([self.search], style("log-pane--match"), case_sensitive=False)
        segments = [
            Segment(segment.text, base + segment.style if segment.style else base)
            for segment in text.render(self.app.console)
            if segment.text
        ]
        return Strip(segments)


def _searchable(entry: LogEntry) -> str:
    return f"{entry.task_name or entry.logger} {entry.message}".casefold()
