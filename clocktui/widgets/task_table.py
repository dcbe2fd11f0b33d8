"""TaskTable: a Line-API table of every task; redraws only the lines on screen."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import ClassVar, Literal
from uuid import UUID

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from clocktui.formatting import (
    fit,
    format_countdown,
    format_duration,
    format_instant,
    outcome_word,
)
from clocktui.model import ConsoleModel, TaskView

__all__ = ["Column", "COLUMNS", "REPLICA_COLUMN", "SORT_ORDERS", "TaskTable"]


@dataclass(frozen=True)
class Column:
    """A column: `width` 0 means it takes the room the others leave."""

    key: str
    title: str
    width: int
    align: Literal["left", "right"] = "left"


COLUMNS = (
    Column("name", "Task", 0),
    Column("group", "Group", 10),
    Column("trigger", "Trigger", 28),
    Column("state", "State", 8),
    Column("next", "Next run", 9),
    Column("countdown", "In", 9, "right"),
    Column("last", "Last run", 9),
    Column("duration", "Took", 8, "right"),
    Column("outcome", "Outcome", 9),
    Column("runs", "Runs", 5, "right"),
    Column("failures", "Fails", 5, "right"),
)
REPLICA_COLUMN = Column("replica", "Replica", 14)
"""Which replica ran the last run: shown for a fleet."""
NAME_MIN_WIDTH = 18
_GAP = 1


def _next_key(view: TaskView) -> tuple[int, float, str]:
    when = view.next_fire_time
    return (when is None, when.timestamp() if when else 0.0, view.name)


SORT_ORDERS: dict[str, Callable[[TaskView], object]] = {
    "name": lambda view: view.name.casefold(),
    "next": _next_key,
    "state": lambda view: (view.state, view.name),
    "failures": lambda view: (-view.failure_count, view.name),
    "last": lambda view: (-(view.last_started.timestamp() if view.last_started else 0), view.name),
    "group": lambda view: (view.group.casefold(), view.name),
}
"""Sort orders `s` cycles through, keyed by the column they sort."""
STATIC_SORTS = frozenset({"name", "group"})
"""Orders runs and pauses cannot change: the table only redraws for those."""


class TaskTable(ScrollView, can_focus=True):
    """Every task of the model, one line each, filtered and sorted.

    Only the lines in view are rendered, on demand, so a once-a-second refresh for
    the countdowns costs the same with 5 tasks or 5,000.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "cursor(-1_000_000_000)", "First", show=False),
        Binding("end", "cursor(1_000_000_000)", "Last", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "task-table--header",
        "task-table--cursor",
        "task-table--failing",
        "task-table--paused",
        "task-table--running",
        "task-table--overrun",
        "task-table--finished",
        "task-table--ok",
        "task-table--dim",
    }

    class Highlighted(Message):
        """The cursor moved to another task (None: no task is shown)."""

        def __init__(self, task_id: UUID | None) -> None:
            super().__init__()
            self.task_id = task_id

    def __init__(
        self,
        model: ConsoleModel,
        now: Callable[[], datetime],
        zone: tzinfo,
        *,
        id: str | None = None,
        replica_column: bool = False,
    ) -> None:
        super().__init__(id=id)
        self.columns = (*COLUMNS, REPLICA_COLUMN) if replica_column else COLUMNS
        self.model = model
        self.now = now
        self.zone = zone
        self.sort_key = "name"
        self.filter_text = ""
        self.order: list[UUID] = []
        self.cursor = 0
        self._highlighted: UUID | None = None
        self._generation = model.generation
        self._pass: _Pass | None = None
        self._lines: dict[tuple[object, ...], Strip] = {}
        self._drawn: dict[int, tuple[object, ...]] = {}
        """The key of what each line in view shows (see `_line`)."""

    # ----- rows ------------------------------------------------------------------
    @property
    def selected(self) -> TaskView | None:
        """The task under the cursor."""
        if not self.order:
            return None
        # .get: a task removed while serving is gone from the model before the next rebuild
        return self.model.tasks.get(self.order[min(self.cursor, len(self.order) - 1)])

    def rebuild(self, *, redraw_all: bool = True) -> None:
        """Filter and sort again (after events or a new filter); keeps the cursor's task.
        `redraw_all=False` redraws only the lines in view that changed."""
        keep = self.order[min(self.cursor, len(self.order) - 1)] if self.order else None
        needle = self.filter_text.casefold()
        views = [
            view
            for view in self.model.tasks.values()
            if not needle or needle in view.name.casefold() or needle in view.group.casefold()
        ]
        views.sort(key=SORT_ORDERS[self.sort_key])  # type: ignore[arg-type]
        self.order = [view.task_id for view in views]
        if keep is not None and keep in self.order:
            self.cursor = self.order.index(keep)
        self.cursor = max(0, min(self.cursor, len(self.order) - 1))
        self.virtual_size = Size(self._table_width(), len(self.order) + 1)
        self._announce()
        if redraw_all:
            self.refresh()
        else:
            self.redraw_changed()

    def model_updated(self) -> None:
        """The model changed: sort again if the order may have changed, then redraw the
        lines that changed."""
        if self._generation != self.model.generation:  # other tasks: filter them again
            self._generation = self.model.generation
            self.rebuild()
        elif self.sort_key in STATIC_SORTS:
            self.redraw_changed()
        else:  # the order may have changed, or tasks came or went
            self.rebuild(redraw_all=False)

    def cycle_sort(self) -> str:
        """Sort by the next column in `SORT_ORDERS`; returns its key."""
        keys = list(SORT_ORDERS)
        self.sort_key = keys[(keys.index(self.sort_key) + 1) % len(keys)]
        self.rebuild()
        return self.sort_key

    def set_filter(self, text: str) -> None:
        """Show only tasks whose name or group contains `text` (any case)."""
        self.filter_text = text
        self.rebuild()

    def select(self, task_id: UUID) -> None:
        """Move the cursor to a task, if shown."""
        if task_id in self.order:
            self.cursor = self.order.index(task_id)
            self._follow_cursor()

    # ----- moving ----------------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        self.cursor = max(0, min(self.cursor + delta, len(self.order) - 1))
        self._follow_cursor()

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.scrollable_content_region.height - 2))

    def on_click(self, event: events.Click) -> None:
        row = int(self.scroll_offset.y) + event.y - 1
        if 0 <= row < len(self.order):
            self.cursor = row
            self._follow_cursor()

    def _follow_cursor(self) -> None:
        rows_in_view = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + rows_in_view:
            self.scroll_to(y=self.cursor - rows_in_view + 1, animate=False)
        self._announce()
        self.refresh()

    def _announce(self) -> None:
        selected = self.selected.task_id if self.selected else None
        if selected != self._highlighted:
            self._highlighted = selected
            self.post_message(self.Highlighted(selected))

    # ----- drawing -----------------------------------------------------------------
    # Textual calls render_line once per line in view; everything that is the same for
    # every line of one pass (styles, widths, the time) is looked up once per pass, and
    # a row whose text and style did not change returns the very Strip it returned
    # before, so Textual's own caches (cuts, filters) hit too.
    def _widths(self) -> list[int]:
        fixed = sum(column.width + _GAP for column in self.columns if column.width)
        room = self.scrollable_content_region.width - fixed - 2 * _GAP
        return [column.width or max(NAME_MIN_WIDTH, room) for column in self.columns]

    def _table_width(self) -> int:
        return _total_width(self._widths())

    def on_resize(self) -> None:
        self.virtual_size = Size(self._table_width(), len(self.order) + 1)

    def render_lines(self, crop: Region) -> list[Strip]:
        self._pass = self._new_pass()
        try:
            return super().render_lines(crop)
        finally:
            self._pass = None

    def _new_pass(self) -> _Pass:
        widths = self._widths()
        component = self.get_component_rich_style
        return _Pass(
            width=self.scrollable_content_region.width,
            table_width=_total_width(widths),
            widths=widths,
            base=self.rich_style,
            full={name: component(name) for name in self.COMPONENT_CLASSES},
            partial={name: component(name, partial=True) for name in self.COMPONENT_CLASSES},
            focused=self.has_focus,
            now=self.now(),
            scroll_x=int(self.scroll_offset.x),
            scroll_y=int(self.scroll_offset.y),
        )

    def render_line(self, y: int) -> Strip:
        draw = self._pass or self._new_pass()
        key, cells, style = self._line(y, draw)
        self._drawn[y] = key
        cached = self._lines.get(key)
        if cached is not None:
            return cached
        if cells is None:
            strip = Strip.blank(draw.width, draw.base)
        else:
            strip = Strip(self._segments(cells, style, draw.widths, self.columns), draw.table_width)
            if draw.table_width != draw.width or draw.scroll_x:
                strip = strip.crop(draw.scroll_x, draw.scroll_x + draw.width)
                strip = strip.extend_cell_length(draw.width, draw.base)
        if len(self._lines) >= _LINES_KEPT:
            self._lines.clear()
        self._lines[key] = strip
        return strip

    def _line(
        self, y: int, draw: _Pass
    ) -> tuple[tuple[object, ...], list[tuple[str, Style | None]] | None, Style]:
        """What line `y` shows: a key equal for equal lines, its cells (None: blank) and
        its style."""
        if y == 0:
            cells, style = self._header_cells(), draw.base + draw.full[_HEADER]
        else:
            row = draw.scroll_y + y - 1
            view = self.model.tasks.get(self.order[row]) if row < len(self.order) else None
            if view is None:  # past the last row (or a task removed before the rebuild)
                return (draw.width, draw.base), None, draw.base
            cells, style = self._cells(view, draw), self._row_style(view, row, draw)
        return (style, draw.width, draw.scroll_x, *draw.widths, *cells), cells, style

    def redraw_changed(self) -> None:
        """Redraw only the lines in view whose text or style changed since they were
        drawn (a countdown that moved on, a run that finished): Textual's cost is per
        line drawn, and most lines stay the same from one second to the next."""
        height = self.scrollable_content_region.height
        if len(self._drawn) < height:
            self.refresh()
            return
        draw = self._new_pass()
        drawn = self._drawn
        width = max(self.virtual_size.width, self.size.width)
        changed = [y for y in range(height) if self._line(y, draw)[0] != drawn.get(y)]
        for start, count in _spans(changed):
            self.refresh(Region(0, start, width, count))

    def _header_cells(self) -> list[tuple[str, Style | None]]:
        return [
            (column.title + (" ▲" if column.key == self.sort_key else ""), None)
            for column in self.columns
        ]

    def _row_style(self, view: TaskView, row: int, draw: _Pass) -> Style:
        row_style = draw.base
        if view.failing:
            row_style += draw.full["task-table--failing"]
        elif view.paused or view.exhausted:
            row_style += draw.full["task-table--dim"]
        if row == self.cursor and draw.focused:
            row_style += draw.full["task-table--cursor"]
        elif row == self.cursor:
            row_style += draw.full["task-table--cursor"].without_color + _REVERSE
        return row_style

    def _cells(self, view: TaskView, draw: _Pass | None = None) -> list[tuple[str, Style | None]]:
        """The texts of a row's cells, with each cell's own style (None: the row's)."""
        draw = draw or self._pass or self._new_pass()
        now = draw.now
        partial = draw.partial
        state = view.state
        state_class = _STATE_CLASSES.get(state)
        skipped = view.skipped_last
        failing = view.failing
        outcome = "skipped" if skipped else outcome_word(view.last_outcome)
        outcome_class = (
            "task-table--failing"
            if failing and not skipped
            else "task-table--ok"
            if outcome == "ok"
            else None
        )
        next_fire = view.next_fire_time if not view.paused else None
        countdown = None if next_fire is None else (next_fire - now).total_seconds()
        cells: list[tuple[str, Style | None]] = [
            (view.name, None),
            (view.group, None),
            (view.trigger, None),
            (state, partial[state_class] if state_class else None),
            (format_instant(next_fire, now, self.zone), None),
            (format_countdown(countdown), None),
            (format_instant(view.last_started, now, self.zone), None),
            (format_duration(view.last_duration), None),
            (outcome, partial[outcome_class] if outcome_class else None),
            (str(view.run_count), None),
            (
                str(view.failure_count),
                partial["task-table--failing"] if view.failure_count else None,
            ),
        ]
        if len(self.columns) > len(COLUMNS):
            cells.append(((view.last_run and view.last_run.replica) or "", None))
        return cells

    @staticmethod
    def _segments(
        cells: Sequence[tuple[str, Style | None]],
        style: Style,
        widths: Sequence[int],
        columns: Sequence[Column] = COLUMNS,
    ) -> list[Segment]:
        """One segment per run of cells drawn in the same style (most of a row is)."""
        segments: list[Segment] = []
        text = [" " * _GAP]
        gap = " " * _GAP
        for (cell, cell_style), column, width in zip(cells, columns, widths, strict=True):
            if cell_style is None:
                text.append(fit(cell, width, column.align))
            else:
                segments.append(Segment("".join(text), style))
                segments.append(Segment(fit(cell, width, column.align), style + cell_style))
                text = []
            text.append(gap)
        segments.append(Segment("".join(text), style))
        return segments


@dataclass(frozen=True, slots=True)
class _Pass:
    """What every line of one render pass shares."""

    width: int
    table_width: int
    widths: list[int]
    base: Style
    full: dict[str, Style]
    partial: dict[str, Style]
    focused: bool
    now: datetime
    scroll_x: int
    scroll_y: int


_HEADER = "task-table--header"
_REVERSE = Style(reverse=True)
_STATE_CLASSES = {
    "running": "task-table--running",
    "paused": "task-table--paused",
    "finished": "task-table--finished",
    "overrun": "task-table--overrun",
}
_LINES_KEPT = 512
"""Rendered rows remembered (a few screens' worth; the cache is emptied when full)."""


def _total_width(widths: Sequence[int]) -> int:
    """The table's width in cells: its columns and the gaps around them."""
    return sum(width + _GAP for width in widths) + _GAP


def _spans(lines: list[int]) -> list[tuple[int, int]]:
    """Runs of consecutive line numbers as (first, count)."""
    spans: list[tuple[int, int]] = []
    for y in lines:
        if spans and spans[-1][0] + spans[-1][1] == y:
            spans[-1] = (spans[-1][0], spans[-1][1] + 1)
        else:
            spans.append((y, 1))
    return spans
