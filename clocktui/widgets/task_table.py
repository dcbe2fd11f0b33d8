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
    format_elapsed,
    format_instant,
    inert,
    outcome_word,
)
from clocktui.model import ConsoleModel, TaskView
from clocktui.task_filter import TaskFilter

__all__ = [
    "Column",
    "COLUMNS",
    "REPLICA_COLUMN",
    "SORT_ORDERS",
    "TaskTable",
    "layout",
    "FAILING_GLYPH",
]


@dataclass(frozen=True)
class Column:
    """A column: `width` 0 means it takes the room the others leave; `gives_way` 0 means
    it is always shown, else the order in which it gives way on a narrow terminal."""

    key: str
    title: str
    width: int
    align: Literal["left", "right"] = "left"
    gives_way: int = 0


COLUMNS = (
    Column("name", "Task", 0),
    Column("group", "Group", 10, gives_way=1),
    Column("trigger", "Trigger", 28, gives_way=2),
    Column("state", "State", 12),
    Column("next", "Next run", 9, gives_way=5),
    Column("countdown", "In", 9, "right"),
    Column("last", "Last run", 9),
    Column("duration", "Took", 8, "right", gives_way=6),
    Column("outcome", "Outcome", 9),
    Column("runs", "Runs", 5, "right", gives_way=4),
    Column("skips", "Skips", 5, "right", gives_way=3),
    Column("failures", "Fails", 5, "right"),
)
"""Every column; on a narrow terminal Group, Trigger, Skips, Runs, Next run and Took give
way in that order, and Task, State, In, Last run, Outcome and Fails always stay (so does
the column the table is sorted by)."""
REPLICA_COLUMN = Column("replica", "Replica", 14)
"""Which replica ran the last run: shown for a fleet."""
NAME_MIN_WIDTH = 18
"""Cells the Task column keeps before another column gives way."""
NAME_FLOOR = 10
"""Cells the Task column keeps at least (for the sort column, or a tiny terminal)."""
_MARK = 2
"""Cells before each name: the failure glyph and a space."""
FAILING_GLYPH = "✗"
_GAP = 1


def layout(
    width: int, sort_key: str, columns: Sequence[Column] = COLUMNS
) -> tuple[tuple[Column, int], ...]:
    """The columns shown in `width` cells, with their widths: the columns that give way
    leave, in order, until the rest fit with the Task column at `NAME_MIN_WIDTH`."""
    shown = list(columns)

    def fixed() -> int:
        return sum(column.width + _GAP for column in shown if column.width) + 2 * _GAP

    leaving = sorted((c for c in columns if c.gives_way and c.key != sort_key), key=_order)
    for column in leaving:
        if fixed() + NAME_MIN_WIDTH <= width:
            break
        shown.remove(column)
    name_width = max(NAME_FLOOR, width - fixed())
    return tuple((column, column.width or name_width) for column in shown)


def _order(column: Column) -> int:
    return column.gives_way


def _next_key(view: TaskView) -> tuple[int, float, str]:
    when = view.next_fire_time
    return (when is None, when.timestamp() if when else 0.0, view.name)


def _last_key(view: TaskView) -> tuple[float, str]:
    run = view.last_run
    return (-(run.started_at.timestamp() if run else 0.0), view.name)


SORT_ORDERS: dict[str, Callable[[TaskView], object]] = {
    "name": lambda view: view.name.casefold(),
    "next": _next_key,
    "state": lambda view: (view.state, view.name),
    "failures": lambda view: (-view.failure_count, view.name),
    "last": _last_key,
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
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "cursor(-1_000_000_000)", "First", show=False),
        Binding("end,G", "cursor(1_000_000_000)", "Last", show=False),
        Binding("f", "next_failing(1)", "Next failing", show=False),
        Binding("F", "next_failing(-1)", "Previous failing", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "task-table--header",
        "task-table--cursor",
        "task-table--failing",
        "task-table--failed",
        "task-table--paused",
        "task-table--running",
        "task-table--overrun",
        "task-table--finished",
        "task-table--ok",
        "task-table--dim",
        "task-table--empty",
    }

    class Highlighted(Message):
        """The cursor moved to another task (None: no task is shown)."""

        def __init__(self, task_id: UUID | None) -> None:
            super().__init__()
            self.task_id = task_id

    class Counted(Message):
        """How many tasks the filter lets through changed."""

        def __init__(self, shown: int, total: int) -> None:
            super().__init__()
            self.shown = shown
            self.total = total

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
        self.sort_reverse = False
        self.filter = TaskFilter()
        self.order: list[UUID] = []
        self.cursor = 0
        self._highlighted: UUID | None = None
        self._generation = model.generation
        self._counted = (-1, -1)
        self._pass: _Pass | None = None
        self._lines: dict[tuple[object, ...], Strip] = {}
        self._drawn: dict[int, tuple[object, ...]] = {}
        """The key of what each line in view shows (see `_line`)."""

    @property
    def filter_text(self) -> str:
        return self.filter.text

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
        keep = self.selected.task_id if self.selected else None
        query = self.filter
        if query.active:
            now = self.now()
            views = [view for view in self.model.tasks.values() if query.matches(view, now)]
        else:
            views = list(self.model.tasks.values())
        views.sort(key=SORT_ORDERS[self.sort_key], reverse=self.sort_reverse)  # type: ignore[arg-type]
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
        """The model changed: sort and filter again if the order or the tasks shown may
        have changed, then redraw the lines that changed."""
        if self._generation != self.model.generation:  # other tasks: filter them again
            self._generation = self.model.generation
            self.rebuild()
        elif self.sort_key in STATIC_SORTS and not self.filter.changes_with_runs:
            self.redraw_changed()
        else:  # the order may have changed, or tasks came or went
            self.rebuild(redraw_all=False)

    def cycle_sort(self) -> str:
        """Sort by the next column in `SORT_ORDERS`; returns its key."""
        keys = list(SORT_ORDERS)
        self.sort_key = keys[(keys.index(self.sort_key) + 1) % len(keys)]
        self.rebuild()
        return self.sort_key

    def reverse_sort(self) -> bool:
        """Reverse the sort order; returns whether it is now descending."""
        self.sort_reverse = not self.sort_reverse
        self.rebuild()
        return self.sort_reverse

    def set_filter(self, text: str) -> None:
        """Show only the tasks that match the query `text` (see `TaskFilter`)."""
        self.filter = TaskFilter.parse(text)
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

    def action_next_failing(self, direction: int) -> None:
        """Move to the next (or previous) failing task shown, wrapping around."""
        count = len(self.order)
        tasks = self.model.tasks
        for step in range(1, count + 1):
            row = (self.cursor + direction * step) % count
            if tasks[self.order[row]].failing:
                self.cursor = row
                self._follow_cursor()
                return
        self.notify("No failing task is shown", timeout=2)

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
        counted = (len(self.order), len(self.model.tasks))
        if counted != self._counted:
            self._counted = counted
            self.post_message(self.Counted(*counted))

    # ----- drawing -----------------------------------------------------------------
    # Textual calls render_line once per line in view; everything that is the same for
    # every line of one pass (styles, widths, the time) is looked up once per pass, and
    # a row whose text and style did not change returns the very Strip it returned
    # before, so Textual's own caches (cuts, filters) hit too.
    def _layout(self) -> tuple[tuple[Column, int], ...]:
        return layout(self.scrollable_content_region.width, self.sort_key, self.columns)

    def _table_width(self) -> int:
        return _total_width([width for _, width in self._layout()])

    def on_resize(self) -> None:
        self.virtual_size = Size(self._table_width(), len(self.order) + 1)

    def render_lines(self, crop: Region) -> list[Strip]:
        self._pass = self._new_pass()
        try:
            return super().render_lines(crop)
        finally:
            self._pass = None

    def _new_pass(self) -> _Pass:
        columns = self._layout()
        widths = [width for _, width in columns]
        component = self.get_component_rich_style
        return _Pass(
            width=self.scrollable_content_region.width,
            table_width=_total_width(widths),
            columns=columns,
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
        elif key[0] == _EMPTY:
            strip = Strip([Segment(fit(cells[0][0], draw.width), style)], draw.width)
        else:
            strip = Strip(self._segments(cells, style, draw.columns), draw.table_width)
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
            cells, style = self._header_cells(draw), draw.base + draw.full[_HEADER]
        else:
            row = draw.scroll_y + y - 1
            view = self.model.tasks.get(self.order[row]) if row < len(self.order) else None
            if view is None:  # past the last row (or a task removed before the rebuild)
                if row == 0 and not self.order:  # nothing to show: say why
                    return self._empty_line(draw)
                return (draw.width, draw.base), None, draw.base
            cells, style = self._cells(view, draw), self._row_style(view, row, draw)
        return (style, draw.width, draw.scroll_x, *draw.widths, *cells), cells, style

    def _empty_line(
        self, draw: _Pass
    ) -> tuple[tuple[object, ...], list[tuple[str, Style | None]], Style]:
        if not self.model.tasks:
            message = "This app has no tasks"
        else:
            message = f"{self.filter.explain_no_match()} · escape clears the filter"
        style = draw.base + draw.full["task-table--empty"]
        cells: list[tuple[str, Style | None]] = [(f" {message}", None)]
        return (_EMPTY, draw.width, message, style), cells, style

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

    def _header_cells(self, draw: _Pass) -> list[tuple[str, Style | None]]:
        arrow = "▼" if self.sort_reverse else "▲"
        cells: list[tuple[str, Style | None]] = []
        for column, width in draw.columns:
            title = " " * _MARK + column.title if column.key == "name" else column.title
            if column.key == self.sort_key:  # the arrow always shows: the title gives way
                room = width - 2
                title = f"{title} {arrow}" if len(title) <= room else fit(title, width - 1) + arrow
            cells.append((title, None))
        return cells

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

    def cell_texts(self, view: TaskView) -> dict[str, str]:
        """The text of each shown cell of a task's row, by column key."""
        draw = self._new_pass()
        cells = self._cells(view, draw)
        return {
            column.key: text for (column, _), (text, _) in zip(draw.columns, cells, strict=True)
        }

    def _cells(self, view: TaskView, draw: _Pass) -> list[tuple[str, Style | None]]:
        """The texts of a row's shown cells, with each cell's own style (None: the row's)."""
        now = draw.now
        partial = draw.partial
        cells: list[tuple[str, Style | None]] = []
        for column, _ in draw.columns:
            key = column.key
            if key == "name":
                mark = FAILING_GLYPH if view.failing else " "
                cells.append((f"{mark} {view.name}", None))
            elif key == "state":
                cells.append(_state_cell(view, now, partial))
            elif key == "outcome":
                outcome = outcome_word(view.last_outcome)
                style = "task-table--failed" if view.failing else _OUTCOME_CLASSES.get(outcome)
                cells.append((outcome, partial[style] if style else None))
            elif key == "failures":
                count = view.failure_count
                cells.append((str(count), partial["task-table--failing"] if count else None))
            else:
                cells.append((_PLAIN_CELLS[key](view, now, self.zone), None))
        return cells

    @staticmethod
    def _segments(
        cells: Sequence[tuple[str, Style | None]],
        style: Style,
        columns: Sequence[tuple[Column, int]],
    ) -> list[Segment]:
        """One segment per run of cells drawn in the same style (most of a row is)."""
        segments: list[Segment] = []
        text = [" " * _GAP]
        gap = " " * _GAP
        for (cell, cell_style), (column, width) in zip(cells, columns, strict=False):
            fitted = fit(cell, width, column.align, middle=column.key == "name")
            if cell_style is None:
                text.append(fitted)
            else:
                segments.append(Segment("".join(text), style))
                segments.append(Segment(fitted, style + cell_style))
                text = []
            text.append(gap)
        segments.append(Segment("".join(text), style))
        return segments


def _state_cell(
    view: TaskView, now: datetime, partial: dict[str, Style]
) -> tuple[str, Style | None]:
    """``running 3 s`` while a run goes (its oldest), else the task's state."""
    state = view.state
    style_class = _STATE_CLASSES.get(state)
    style = partial[style_class] if style_class else None
    since = view.running_since
    if since is not None:
        return f"running {format_elapsed((now - since).total_seconds())}", style
    return state, style


def _countdown(view: TaskView, now: datetime, zone: tzinfo) -> str:
    when = _next_fire(view)
    return "" if when is None else format_countdown((when - now).total_seconds())


def _next_fire(view: TaskView) -> datetime | None:
    return None if view.paused else view.next_fire_time


_PLAIN_CELLS: dict[str, Callable[[TaskView, datetime, tzinfo], str]] = {
    "group": lambda view, now, zone: view.group,
    "trigger": lambda view, now, zone: view.trigger,
    "next": lambda view, now, zone: format_instant(_next_fire(view), now, zone),
    "countdown": _countdown,
    "last": lambda view, now, zone: format_instant(
        view.last_run.started_at if view.last_run else None, now, zone
    ),
    "duration": lambda view, now, zone: format_duration(view.last_duration),
    "runs": lambda view, now, zone: str(view.run_count),
    "skips": lambda view, now, zone: str(view.skip_count),
    "replica": lambda view, now, zone: inert((view.last_run and view.last_run.replica) or ""),
}
"""Cells drawn in the row's style, by column key."""


@dataclass(frozen=True, slots=True)
class _Pass:
    """What every line of one render pass shares."""

    width: int
    table_width: int
    columns: tuple[tuple[Column, int], ...]
    widths: list[int]
    base: Style
    full: dict[str, Style]
    partial: dict[str, Style]
    focused: bool
    now: datetime
    scroll_x: int
    scroll_y: int


_HEADER = "task-table--header"
_EMPTY = "empty"
"""The key of the line that says why no task is shown."""
_REVERSE = Style(reverse=True)
_STATE_CLASSES = {
    "running": "task-table--running",
    "paused": "task-table--paused",
    "finished": "task-table--finished",
    "overrun": "task-table--overrun",
}
_OUTCOME_CLASSES = {"ok": "task-table--ok"}
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
