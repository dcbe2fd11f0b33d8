"""At 80x24: which columns stay, names cut in the middle, the sort arrow, usable details."""

from __future__ import annotations

import pytest

from clocktui.app import ClockConsole
from clocktui.widgets.task_table import COLUMNS, SORT_ORDERS, TaskTable, layout
from tests.console.conftest import advance, build_console, open_details, started, time_limit

SMALL = (80, 24)
ALWAYS = ["name", "state", "countdown", "last", "outcome", "failures"]


def keys(width: int, sort_key: str = "name") -> list[str]:
    return [column.key for column, _ in layout(width, sort_key)]


def test_at_80_columns_task_state_in_last_run_outcome_and_fails_stay() -> None:
    assert [key for key in keys(79) if key in ALWAYS] == ALWAYS
    assert "group" not in keys(79) and "trigger" not in keys(79)


def test_columns_give_way_in_the_documented_order() -> None:
    gone: list[str] = []
    for width in range(200, 40, -1):
        for key in (c.key for c in COLUMNS if c.key not in keys(width) and c.key not in gone):
            gone.append(key)
    assert gone == ["group", "trigger", "skips", "runs", "next", "duration"]
    assert keys(160) == [column.key for column in COLUMNS]


def test_the_sort_column_stays_whatever_the_width() -> None:
    for sort_key in SORT_ORDERS:
        assert sort_key in keys(79, sort_key)


@pytest.mark.parametrize("width", [79, 100, 158])
def test_the_columns_fill_the_width(width: int) -> None:
    widths = [w for _, w in layout(width, "name")]
    assert sum(w + 1 for w in widths) + 1 == width


@time_limit()
async def test_the_sort_columns_arrow_shows_for_every_sort_at_80x24(
    console: ClockConsole,
) -> None:
    async with console.run_test(size=SMALL) as pilot:
        await started(pilot)
        table = console.screen.query_one(TaskTable)
        for _ in SORT_ORDERS:
            for reverse in (False, True):
                if table.sort_reverse != reverse:
                    await pilot.press("S")
                header = table.render_line(0).text
                assert ("▼" if reverse else "▲") in header, (table.sort_key, header)
            await pilot.press("s")


@time_limit()
async def test_a_long_name_keeps_its_end_in_the_table() -> None:
    from aioclock_core import AioClock, Every
    from aioclock_core.testing import FakeClock
    from tests.apps.console_app import START

    app = AioClock(name="names", clock=FakeClock(start=START), loop_block_threshold=None)
    for region in ("eu-west-1", "us-east-2"):
        app.task(trigger=Every(seconds=10), name=f"reports.nightly.export.{region}")(lambda: None)
    console = build_console(target=app)
    async with console.run_test(size=SMALL) as pilot:
        await started(pilot)
        table = console.screen.query_one(TaskTable)
        rows = [table.render_line(y).text for y in (1, 2)]
        assert "eu-west-1" in rows[0] and "us-east-2" in rows[1]
        assert "…" in rows[0]


@time_limit()
async def test_the_details_screen_is_usable_at_80x24(console: ClockConsole) -> None:
    async with console.run_test(size=SMALL) as pilot:
        await started(pilot)
        await advance(pilot, 60)
        screen = await open_details(pilot, "flaky upload", runs=2)
        for part in ("#facts", "#runs", "#run-box", "#durations"):
            region = screen.query_one(part).region
            assert region.height >= 4 and region.width >= 30, (part, region)
            assert region.bottom <= 23  # above the footer
        assert not screen.query_one("#upcoming").display  # the facts say the next run
        assert not screen.query_one("#task-logs").display  # the run panel has its logs
