"""TimelineChart: one line per task across the coming hour, day or week (a Line-API view)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import ClassVar
from uuid import UUID

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from aioclock_core.simulation import DstTransition, SimulatedTask, Simulation
from clocktui.formatting import fit
from clocktui.timeline import Mark, Window, columns_of, paint_row, ticks

__all__ = ["TimelineData", "TimelineChart"]

NAME_WIDTH = 22
COUNT_WIDTH = 8
_HEAD_LINES = 2
"""The time axis and the line of herd and DST markers, above the rows."""

_GLYPHS = {
    Mark.EMPTY: " ",
    Mark.RUN: "━",
    Mark.FIRING: "┃",
    Mark.OVERLAP_RUN: "━",
    Mark.OVERLAP: "┃",
}
_MARK_CLASSES = {
    Mark.RUN: "timeline--run",
    Mark.FIRING: "timeline--firing",
    Mark.OVERLAP_RUN: "timeline--overlap",
    Mark.OVERLAP: "timeline--overlap",
}
HERD_GLYPH = "▲"
DST_GLYPH = "┊"


@dataclass(frozen=True)
class TimelineData:
    """A simulation of the shown tasks and what the chart marks on it.

    Attributes:
        simulation: The firings of the shown tasks, from now to the end of the span.
        herds: Instants where more than the herd size fire together.
        transitions: The offset changes inside the window, per zone of the tasks.
    """

    simulation: Simulation
    herds: Sequence[datetime]
    transitions: Mapping[str, Sequence[DstTransition]]


class TimelineChart(ScrollView, can_focus=True):
    """Firings as marks, median runs as bars, overlaps and herds highlighted, DST marked."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor(-20)", "Page up", show=False),
        Binding("pagedown", "cursor(20)", "Page down", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "timeline--axis",
        "timeline--cursor",
        "timeline--firing",
        "timeline--run",
        "timeline--overlap",
        "timeline--herd",
        "timeline--dst",
        "timeline--dim",
    }

    class Highlighted(Message):
        """The cursor moved to another task."""

        def __init__(self, task_id: UUID) -> None:
            super().__init__()
            self.task_id = task_id

    def __init__(self, order: list[UUID], selected: UUID | None, zone: tzinfo) -> None:
        super().__init__()
        self.order = order
        self.cursor = order.index(selected) if selected in order else 0
        self.zone = zone
        self.data: TimelineData | None = None
        self.medians: Mapping[UUID, float] = {}
        self.note = "Computing…"
        self._rows: dict[UUID, SimulatedTask] = {}
        self._marks: dict[tuple[UUID, int], list[Mark]] = {}
        self._columns: dict[tuple[str, int], set[int]] = {}
        """Cells of herds (key "") and of each zone's DST changes, per width."""

    # ----- data -----------------------------------------------------------------------
    def show(self, data: TimelineData | None, note: str = "") -> None:
        """Draw a new simulation (None: nothing to draw, `note` says why)."""
        self.data, self.note = data, note
        self._rows = {} if data is None else {t.task.id: t for t in data.simulation.tasks}
        self._marks.clear()
        self._columns.clear()
        self.virtual_size = Size(self.size.width, len(self.order) + _HEAD_LINES)
        self.refresh()

    def set_medians(self, medians: Mapping[UUID, float]) -> None:
        """Median run lengths changed (runs finished): redraw the bars."""
        if medians != self.medians:
            self.medians = medians
            self._marks.clear()
            self.refresh()

    @property
    def selected(self) -> UUID | None:
        return self.order[self.cursor] if self.order else None

    def action_cursor(self, delta: int) -> None:
        if not self.order:
            return
        self.cursor = max(0, min(self.cursor + delta, len(self.order) - 1))
        rows_in_view = max(1, self.scrollable_content_region.height - _HEAD_LINES)
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + rows_in_view:
            self.scroll_to(y=self.cursor - rows_in_view + 1, animate=False)
        self.post_message(self.Highlighted(self.order[self.cursor]))
        self.refresh()

    # ----- drawing ----------------------------------------------------------------------
    def window(self) -> Window | None:
        """The cells on screen now (None: nothing simulated yet)."""
        if self.data is None:
            return None
        cells = max(1, self.scrollable_content_region.width - NAME_WIDTH - COUNT_WIDTH - 2)
        simulation = self.data.simulation
        return Window(simulation.start, simulation.end - simulation.start, cells)

    def on_resize(self) -> None:
        self._marks.clear()
        self._columns.clear()
        self.virtual_size = Size(self.size.width, len(self.order) + _HEAD_LINES)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        window = self.window()
        if window is None or self.data is None:
            text = f" {self.note}" if y == 0 else ""
            return Strip([Segment(text.ljust(width), base)], width)
        if y == 0:
            return self._axis(window, width, base)
        if y == 1:
            return self._markers(window, width, base)
        row = int(self.scroll_offset.y) + y - _HEAD_LINES
        if row >= len(self.order):
            return Strip.blank(width, base)
        return self._row(row, window, width, base)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    def _herd_columns(self, window: Window) -> set[int]:
        assert self.data is not None
        key = ("", window.cells)
        if key not in self._columns:
            self._columns[key] = columns_of(window, self.data.herds)
        return self._columns[key]

    def _dst_columns(self, window: Window, zones: Iterable[str]) -> set[int]:
        assert self.data is not None
        found: set[int] = set()
        for zone in zones:
            key = (zone, window.cells)
            if key not in self._columns:
                changes = self.data.transitions.get(zone, ())
                self._columns[key] = columns_of(window, (change.at for change in changes))
            found |= self._columns[key]
        return found

    def _axis(self, window: Window, width: int, base: Style) -> Strip:
        line = [" "] * window.cells
        for column, label in ticks(window, self.zone):
            if all(cell == " " for cell in line[column : column + len(label) + 1]):
                line[column : column + len(label)] = label
        title = fit(" Task", NAME_WIDTH) + " "
        style = base + self.get_component_rich_style("timeline--axis")
        text = title + "".join(line)[: window.cells] + " " + fit("Firings", COUNT_WIDTH, "right")
        return Strip([Segment(fit(text, width), style)], width)

    def _markers(self, window: Window, width: int, base: Style) -> Strip:
        assert self.data is not None
        herds = self._herd_columns(window)
        changes = self._dst_columns(window, self.data.transitions)
        segments = [Segment(" " * (NAME_WIDTH + 1), base)]
        for column in range(window.cells):
            if column in changes:  # rarer than herds, and worth seeing
                segments.append(Segment(DST_GLYPH, base + self._style("timeline--dst")))
            elif column in herds:
                segments.append(Segment(HERD_GLYPH, base + self._style("timeline--herd")))
            else:
                segments.append(Segment(" ", base))
        return Strip(segments).extend_cell_length(width, base).crop(0, width)

    def _row(self, row: int, window: Window, width: int, base: Style) -> Strip:
        assert self.data is not None
        task_id = self.order[row]
        simulated = self._rows.get(task_id)
        style = base
        if row == self.cursor:
            style += self.get_component_rich_style("timeline--cursor")
        name = simulated.name if simulated is not None else "?"
        segments = [Segment(fit(f" {name}", NAME_WIDTH) + " ", style)]
        if simulated is None or simulated.not_simulated is not None:
            why = (
                "not simulated: " + (simulated.not_simulated or "unknown task") if simulated else ""
            )
            segments.append(Segment(fit(why, window.cells), style + self._style("timeline--dim")))
        else:
            segments += self._cells(simulated, window, style)
        count = "" if simulated is None else f"{len(simulated.firings):,}"
        segments.append(Segment(" " + fit(count, COUNT_WIDTH, "right"), style))
        return Strip(segments).extend_cell_length(width, style).crop(0, width)

    def _cells(self, task: SimulatedTask, window: Window, style: Style) -> list[Segment]:
        assert self.data is not None
        key = (task.task.id, window.cells)
        marks = self._marks.get(key)
        if marks is None:
            median = self.medians.get(task.task.id)
            marks = paint_row(window, task.firings, median, task.task.max_concurrent_runs)
            self._marks[key] = marks
        herds = self._herd_columns(window)
        changes = self._dst_columns(window, [task.zone])
        dst = self._style("timeline--dst")
        segments = []
        for column, mark in enumerate(marks):
            cell_style = style
            if column in changes and mark is Mark.EMPTY:
                segments.append(Segment(DST_GLYPH, cell_style + dst))
                continue
            if mark is not Mark.EMPTY:
                cell_style += self._style(_MARK_CLASSES[mark])
            if column in herds and mark in (Mark.FIRING, Mark.OVERLAP):
                cell_style += self._style("timeline--herd")
            if column in changes:  # a firing at the change: keep its colour, mark the cell
                cell_style += Style(bgcolor=dst.bgcolor)
            segments.append(Segment(_GLYPHS[mark], cell_style))
        return list(Segment.simplify(segments))
