"""The timeline's arithmetic: its spans, its cells, its time ticks, and what each cell of a
task's row shows (firings, runs of median length, predicted overlaps)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import IntEnum

__all__ = ["SPANS", "Mark", "Window", "paint_row", "columns_of", "ticks"]

SPANS = (
    ("hour", timedelta(hours=1)),
    ("day", timedelta(days=1)),
    ("week", timedelta(weeks=1)),
)
"""The spans `+` and `-` step through, shortest first."""

_TICK_STEPS = tuple(
    timedelta(minutes=minutes)
    for minutes in (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880)
)
_TICK_SPACING = 12
"""Cells at least between two time labels."""


class Mark(IntEnum):
    """What a cell of a task's row shows; where several apply, the highest wins."""

    EMPTY = 0
    RUN = 1
    """Inside a run of the task's median length."""
    FIRING = 2
    OVERLAP_RUN = 3
    """Inside a run predicted to start before an earlier one ended."""
    OVERLAP = 4
    """A firing predicted to find the task's earlier runs still going."""


@dataclass(frozen=True)
class Window:
    """The time the timeline shows, cut into `cells` equal cells.

    Attributes:
        start: The instant at the left edge (aware).
        span: How much time the cells cover together.
        cells: How many cells (columns) there are.
    """

    start: datetime
    span: timedelta
    cells: int

    @property
    def cell(self) -> float:
        """Seconds per cell."""
        return self.span.total_seconds() / max(1, self.cells)

    def offset(self, instant: datetime) -> float:
        """Seconds from the left edge to `instant`."""
        return (instant - self.start).total_seconds()

    def column(self, instant: datetime) -> int:
        """The cell holding `instant` (may be outside 0..cells-1)."""
        return math.floor(self.offset(instant) / self.cell)


def paint_row(
    window: Window, firings: Sequence[datetime], median: float | None, at_once: int = 1
) -> list[Mark]:
    """The marks of one task's row: each firing, followed by a run of `median` seconds if
    known. A firing is an overlap when its `at_once`-th earlier run has not yet ended (the
    scheduler would skip it as overlapping)."""
    marks = [Mark.EMPTY] * window.cells
    cell = window.cell
    offsets = [window.offset(instant) for instant in firings]
    painted_to = 0  # run cells up to here are painted already (keeps long runs linear)
    for index, offset in enumerate(offsets):
        column = math.floor(offset / cell)
        if column >= window.cells:
            break
        overlapped = (
            median is not None and index >= at_once and offset < offsets[index - at_once] + median
        )
        if median is not None:
            last = min(window.cells, math.ceil((offset + median) / cell))
            run = Mark.OVERLAP_RUN if overlapped else Mark.RUN
            first = column if overlapped else max(column, painted_to)
            for position in range(max(0, first), last):
                marks[position] = max(marks[position], run)
            painted_to = max(painted_to, last)
        if column >= 0:
            marks[column] = max(marks[column], Mark.OVERLAP if overlapped else Mark.FIRING)
    return marks


def columns_of(window: Window, instants: Iterable[datetime]) -> set[int]:
    """The cells holding any of `instants` (those inside the window)."""
    columns = (window.column(instant) for instant in instants)
    return {column for column in columns if 0 <= column < window.cells}


def ticks(window: Window, zone: tzinfo) -> list[tuple[int, str]]:
    """Time labels as (cell, text): round wall times of `zone`, at least `_TICK_SPACING`
    cells apart."""
    step = next(
        (s for s in _TICK_STEPS if s.total_seconds() / window.cell >= _TICK_SPACING),
        _TICK_STEPS[-1],
    )
    local = window.start.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    steps_since = math.ceil((local - midnight) / step)
    found: list[tuple[int, str]] = []
    wall = midnight + steps_since * step
    while True:
        column = window.column(wall)
        daily = step >= timedelta(days=1) or (wall.hour, wall.minute) == (0, 0)
        label = wall.strftime("%a %d" if daily else "%H:%M")
        if column + len(label) > window.cells:
            return found
        found.append((column, label))
        wall += step
