"""TaskTable: a Line-API table of every task; redraws only the lines on screen."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import ClassVar, Literal
from uuid import UUID

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from clocktui.formatting import (
    format_countdown,
    format_duration,
    format_instant,
    outcome_word,
)
from clocktui.model import ConsoleModel, TaskView

__all__ = ["Column", "COLUMNS", "SORT_ORDERS", "TaskTable"]


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
    ) -> None:
        super().__init__(id=id)
        self.model = model
        self.now = now
        self.zone = zone
        self.sort_key = "name"
        self.filter_text = ""
        self.order: list[UUID] = []
        self.cursor = 0
        self._highlighted: UUID | None = None

    # ----- rows ------------------------------------------------------------------
    @property
    def selected(self) -> TaskView | None:
        """The task under the cursor."""
        if not self.order:
            return None
        return self.model.tasks[self.order[min(self.cursor, len(self.order) - 1)]]

    def rebuild(self) -> None:
        """Filter and sort again (after events or a new filter); keeps the cursor's task."""
        keep = self.selected.task_id if self.selected else None
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
        self.refresh()

    def model_updated(self) -> None:
        """The model changed: sort again if the order may have changed, else redraw."""
        if self.sort_key in STATIC_SORTS:
            self.refresh()
        else:
            self.rebuild()

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
    def _widths(self) -> list[int]:
        fixed = sum(column.width + _GAP for column in COLUMNS if column.width)
        room = self.scrollable_content_region.width - fixed - 2 * _GAP
        return [column.width or max(NAME_MIN_WIDTH, room) for column in COLUMNS]

    def _table_width(self) -> int:
        return sum(width + _GAP for width in self._widths()) + _GAP

    def on_resize(self) -> None:
        self.virtual_size = Size(self._table_width(), len(self.order) + 1)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            segments = self._header_segments()
        else:
            row = int(self.scroll_offset.y) + y - 1
            if row >= len(self.order):
                return Strip.blank(width, base)
            segments = self._row_segments(self.model.tasks[self.order[row]], row == self.cursor)
        strip = Strip(segments).extend_cell_length(self._table_width(), base)
        scroll_x = int(self.scroll_offset.x)
        return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width, base)

    def _header_segments(self) -> list[Segment]:
        style = self.rich_style + self.get_component_rich_style("task-table--header")
        titles = []
        for column in COLUMNS:
            mark = " ▲" if column.key == self.sort_key else ""
            titles.append((column.title + mark, None))
        return self._segments(titles, style)

    def _row_segments(self, view: TaskView, is_cursor: bool) -> list[Segment]:
        row_style = self.rich_style
        if view.failing:
            row_style += self.get_component_rich_style("task-table--failing")
        elif view.paused or view.exhausted:
            row_style += self.get_component_rich_style("task-table--dim")
        if is_cursor and self.has_focus:
            row_style += self.get_component_rich_style("task-table--cursor")
        elif is_cursor:
            row_style += self.get_component_rich_style("task-table--cursor").without_color
            row_style += Style(reverse=True)
        return self._segments(self._cells(view), row_style)

    def _cells(self, view: TaskView) -> list[tuple[str, Style | None]]:
        now = self.now()
        state_class = {
            "running": "task-table--running",
            "paused": "task-table--paused",
            "finished": "task-table--finished",
        }.get(view.state)
        outcome = "skipped" if view.skipped_last else outcome_word(view.last_outcome)
        outcome_class = (
            "task-table--failing"
            if view.failing and not view.skipped_last
            else "task-table--ok"
            if outcome == "ok"
            else None
        )
        next_fire = view.next_fire_time if not view.paused else None
        countdown = None if next_fire is None else (next_fire - now).total_seconds()
        return [
            (view.name, None),
            (view.group, None),
            (view.trigger, None),
            (view.state, self._style(state_class)),
            (format_instant(next_fire, now, self.zone), None),
            (format_countdown(countdown), None),
            (format_instant(view.last_started, now, self.zone), None),
            (format_duration(view.last_duration), None),
            (outcome, self._style(outcome_class)),
            (str(view.run_count), None),
            (
                str(view.failure_count),
                self._style("task-table--failing") if view.failure_count else None,
            ),
        ]

    def _style(self, component: str | None) -> Style | None:
        return None if component is None else self.get_component_rich_style(component, partial=True)

    def _segments(self, cells: Sequence[tuple[str, Style | None]], style: Style) -> list[Segment]:
        segments = [Segment(" " * _GAP, style)]
        for (text, cell_style), column, width in zip(cells, COLUMNS, self._widths(), strict=True):
            segments.append(
                Segment(
                    _fit(text, width, column.align), style + cell_style if cell_style else style
                )
            )
            segments.append(Segment(" " * _GAP, style))
        return segments


def _fit(text: str, width: int, align: str) -> str:
    """Pad or cut `text` to exactly `width` cells (an ellipsis marks a cut)."""
    text = text.replace("\n", " ")
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, max(0, width - 1)) + "…"
    padding = " " * (width - length)
    return padding + text if align == "right" else text + padding
