"""Finding tasks among many: filter terms, counts, no-match message, keys, reverse sort,
next failing task."""

from __future__ import annotations

from textual.widgets import Static

from aioclock_core import AioClock, Every, Group
from aioclock_core.testing import FakeClock
from clocktui.app import ClockConsole
from clocktui.widgets.task_table import TaskTable
from tests.apps.console_app import START
from tests.console.conftest import SIZE, advance, build_console, select, started, time_limit


def table_of(console: ClockConsole) -> TaskTable:
    return console.screen.query_one(TaskTable)


def shown(console: ClockConsole) -> list[str]:
    return [console.model.tasks[task_id].name for task_id in table_of(console).order]


def count_text(console: ClockConsole) -> str:
    return str(console.screen.query_one("#filter-count", Static).render())


def many_tasks(count: int = 2000) -> ClockConsole:
    app = AioClock(name="many", clock=FakeClock(start=START), loop_block_threshold=None)
    groups = {name: Group(name=name) for name in ("billing", "misc")}
    for index in range(count):
        group = groups["billing" if index % 100 == 0 else "misc"]
        group.task(trigger=Every(hours=1), name=f"job {index:04}")(lambda: None)
    for group in groups.values():
        app.include_group(group)
    return build_console(target=app)


@time_limit()
async def test_is_failing_shows_the_failing_tasks_and_says_how_many_of_all(
    console: ClockConsole,
) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await advance(pilot, 30)
        await pilot.press("slash", *"is:failing", "enter")
        assert shown(console) == ["flaky upload"]
        assert count_text(console) == "1 of 6"
        assert table_of(console).has_focus


@time_limit(30)
async def test_several_terms_narrow_two_thousand_tasks_and_the_count_says_so() -> None:
    console = many_tasks()
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("slash", *"group:billing 1")
        assert shown(console) == [f"job {i:04}" for i in (100, 1000, 1100, 1200, 1300, 1400)] + [
            f"job {i:04}" for i in (1500, 1600, 1700, 1800, 1900)
        ]
        assert count_text(console) == "11 of 2,000"


@time_limit()
async def test_a_filter_that_matches_nothing_says_so_in_the_table(console: ClockConsole) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("slash", *"zzz")
        assert shown(console) == []
        assert (
            "No task matches 'zzz' · escape clears the filter"
            in table_of(console).render_line(1).text
        )
        assert count_text(console) == "0 of 6"
        await pilot.press("escape")
        assert len(shown(console)) == 6


@time_limit()
async def test_j_k_g_and_shift_g_move_the_cursor(console: ClockConsole) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        table = table_of(console)
        await pilot.press("j", "j")
        assert table.cursor == 2
        await pilot.press("k")
        assert table.cursor == 1
        await pilot.press("G")
        assert table.cursor == 5
        await pilot.press("g")
        assert table.cursor == 0


@time_limit()
async def test_shift_s_reverses_the_sort(console: ClockConsole) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        ascending = shown(console)
        await pilot.press("S")
        assert shown(console) == list(reversed(ascending))
        assert "▼" in table_of(console).render_line(0).text
        await pilot.press("S")
        assert shown(console) == ascending


@time_limit()
async def test_f_jumps_to_the_next_failing_task_and_wraps_around() -> None:
    app = AioClock(name="failures", clock=FakeClock(start=START), loop_block_threshold=None)

    def fails() -> None:
        raise ValueError("no")

    for name in ("a ok", "b fails", "c ok", "d fails", "e ok"):
        app.task(trigger=Every(seconds=10), name=name)(fails if "fails" in name else lambda: None)
    console = build_console(target=app)
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await advance(pilot, 10)
        table = table_of(console)
        select(console, "a ok")
        await pilot.press("f")
        assert table.selected is not None and table.selected.name == "b fails"
        await pilot.press("f")
        assert table.selected.name == "d fails"
        await pilot.press("f")
        assert table.selected.name == "b fails"
        await pilot.press("F")
        assert table.selected.name == "d fails"
