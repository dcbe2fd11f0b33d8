"""The timeline screen: the table's tasks and selection, spans, marks, herds and DST changes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import pairwise

import pytest

from clocktui.app import ClockConsole
from clocktui.screens.main import MainScreen
from clocktui.screens.timeline import TimelineScreen
from clocktui.timeline import Mark, Window, paint_row, ticks
from clocktui.widgets.task_table import TaskTable
from clocktui.widgets.timeline_chart import TimelineChart
from tests.apps import timeline_app
from tests.console.conftest import (
    SIZE,
    advance,
    build_console,
    open_timeline,
    select,
    started,
    time_limit,
)

T0 = datetime(2026, 3, 28, 12, tzinfo=timezone.utc)
E, R, F, XR, X = Mark.EMPTY, Mark.RUN, Mark.FIRING, Mark.OVERLAP_RUN, Mark.OVERLAP
"""Empty, run, firing, overlapping run, overlapping firing."""


def timeline_console() -> ClockConsole:
    return build_console(target=timeline_app.make())


def names(console: ClockConsole, ids: list[object]) -> list[str]:
    return [console.model.tasks[task_id].name for task_id in ids]  # type: ignore[index]


@time_limit(30)
async def test_t_shows_the_tasks_the_table_shows_in_its_order() -> None:
    console = timeline_console()
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("slash", "quotation_mark", *"shard 0", "quotation_mark", "enter")
        screen = await open_timeline(pilot)
        assert names(console, screen.chart.order) == [f"shard 0{i}" for i in range(1, 10)]
        simulated = [task.name for task in screen.chart.data.simulation.tasks]  # type: ignore[union-attr]
        assert simulated == names(console, screen.chart.order)


@time_limit(30)
async def test_the_timeline_starts_on_the_selected_task_and_the_table_follows_it() -> None:
    console = timeline_console()
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        select(console, "shard 03")
        screen = await open_timeline(pilot)
        assert names(console, [screen.chart.selected]) == ["shard 03"]
        await pilot.press("down", "down")
        assert names(console, [screen.chart.selected]) == ["shard 05"]
        await pilot.press("escape")
        assert isinstance(console.screen, MainScreen)
        table = console.screen.query_one(TaskTable)
        assert table.selected is not None and table.selected.name == "shard 05"


@time_limit(30)
async def test_plus_and_minus_step_through_hour_day_and_week() -> None:
    console = timeline_console()
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await open_timeline(pilot)
        await pilot.press("plus")
        await open_timeline(pilot, timedelta(days=1))
        await pilot.press("plus", "plus")  # a week is the longest
        screen = await open_timeline(pilot, timedelta(weeks=1))
        assert screen.span_index == 2
        await pilot.press("minus")
        await open_timeline(pilot, timedelta(days=1))


@time_limit(30)
async def test_the_chart_marks_herds_overlapping_runs_and_the_dst_change() -> None:
    console = timeline_console()
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await advance(pilot, 15 * 60)  # slow sync's first runs took 5 minutes each
        await open_timeline(pilot)
        await pilot.press("plus")
        screen = await open_timeline(pilot, timedelta(days=1))
        chart = screen.chart
        data = chart.data
        assert data is not None
        quarter_hours = {(h - timeline_app.START) % timedelta(minutes=15) for h in data.herds}
        assert quarter_hours == {timedelta(0)}  # the twelve shards, every quarter hour
        assert [change.at for change in data.transitions["Europe/Berlin"]] == [
            datetime(2026, 3, 29, 1, tzinfo=timezone.utc)
        ]
        slow = next(v.task_id for v in console.model.tasks.values() if v.name == "slow sync")
        assert chart.medians[slow] == 300
        row = chart.order.index(slow) + 2  # under the axis and the marker line
        assert "┃" in chart.render_line(row).text
        legacy = chart.render_line(chart.order.index(_id(console, "legacy poll")) + 2).text
        assert "not simulated: its trigger WaitsOnItsOwn waits on its own" in legacy


def _id(console: ClockConsole, name: str) -> object:
    return next(v.task_id for v in console.model.tasks.values() if v.name == name)


@time_limit(30)
async def test_enter_opens_the_selected_tasks_details() -> None:
    console = timeline_console()
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        select(console, "berlin lunch")
        await open_timeline(pilot)
        await pilot.press("enter")
        assert type(console.screen).__name__ == "DetailScreen"
        await pilot.press("escape")
        assert isinstance(console.screen, TimelineScreen)
        assert isinstance(console.screen.query_one(TimelineChart), TimelineChart)


@pytest.mark.parametrize(
    ("firings", "median", "at_once", "marks"),
    [
        ([0, 40], None, 1, [F, E, E, E, F, E]),
        ([0, 40], 25, 1, [F, R, R, E, F, R]),
        ([0, 20, 40], 25, 1, [F, R, X, XR, X, XR]),
        ([0, 20, 40], 25, 2, [F, R, F, R, F, R]),
        ([-15, 30], 30, 1, [R, R, E, F, R, R]),
        ([55, 80], 100, 1, [E, E, E, E, E, F]),
    ],
    ids=["marks only", "runs", "overlaps", "two at once", "run from before", "at the edge"],
)
def test_a_row_paints_firings_runs_and_overlaps(
    firings: list[int], median: float | None, at_once: int, marks: list[Mark]
) -> None:
    window = Window(T0, timedelta(seconds=60), 6)
    instants = [T0 + timedelta(seconds=s) for s in firings]
    assert paint_row(window, instants, median, at_once) == marks


@pytest.mark.parametrize(
    ("span", "cells", "labels"),
    [
        (timedelta(hours=1), 120, ["12:00", "12:10", "12:20", "12:30", "12:40", "12:50"]),
        (timedelta(days=1), 60, ["12:00", "18:00", "Sun 29", "06:00"]),
        (
            timedelta(weeks=1),
            120,
            ["Sun 29", "Mon 30", "Tue 31", "Wed 01", "Thu 02", "Fri 03", "Sat 04"],
        ),
    ],
)
def test_time_labels_fall_on_round_wall_times(
    span: timedelta, cells: int, labels: list[str]
) -> None:
    found = ticks(Window(T0, span, cells), timezone.utc)
    assert [label for _, label in found] == labels
    assert all(b - a >= 12 for (a, _), (b, _) in pairwise(found))
