"""Pilot tests of the detail screen: next firings, recent runs, traceback, keys."""

from __future__ import annotations

from textual.widgets import DataTable, Sparkline, Static

from clocktui.app import ClockConsole
from clocktui.screens.detail import DetailScreen
from tests.console.conftest import SIZE, advance, select, started, time_limit, until


def text_of(screen: DetailScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


@time_limit()
async def test_enter_opens_details_with_the_next_five_firings(console: ClockConsole) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        select(console, "heartbeat")
        await pilot.press("enter")
        screen = console.screen
        assert isinstance(screen, DetailScreen)
        await until(lambda: "12:00:45" in text_of(screen, "#upcoming"), pilot, "upcoming shown")
        assert text_of(screen, "#upcoming").splitlines() == [
            f"Sat 2026-03-28 12:00:{second:02}" for second in (5, 15, 25, 35, 45)
        ]
        assert "every 10 s" in text_of(screen, "#facts")
        await pilot.press("escape")
        assert not isinstance(console.screen, DetailScreen)


@time_limit()
async def test_failing_task_details_show_its_runs_and_last_traceback(
    console: ClockConsole,
) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await advance(pilot, 60)
        select(console, "flaky upload")
        await pilot.press("enter")
        screen = console.screen
        assert isinstance(screen, DetailScreen)
        runs = screen.query_one("#runs", DataTable)
        assert runs.row_count == 2
        assert str(runs.get_row_at(0)[2]) == "failed"
        assert len(screen.query_one(Sparkline).data or []) == 2
        run = text_of(screen, "#run")  # the latest run is open: the failure
        assert "Traceback (most recent call last)" in run
        assert "ConnectionError: upload server reset the connection" in run


@time_limit()
async def test_r_in_details_runs_the_task_and_the_runs_table_grows(
    console: ClockConsole,
) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        view = select(console, "heartbeat")
        await pilot.press("enter")
        await pilot.press("r")
        await until(lambda: view.run_count == 1, pilot, "the manual run finished")
        await pilot.pause()
        runs = console.screen.query_one("#runs", DataTable)
        assert str(runs.get_row_at(0)[3]) == "manual"


@time_limit()
async def test_details_show_a_runs_result_and_what_the_failed_run_logged() -> None:
    import logging
    from datetime import timezone

    from aioclock_core import AioClock, Every
    from aioclock_core.testing import FakeClock
    from clocktui.app import make_app
    from tests.apps.console_app import START

    log = logging.getLogger("fixture.detail")
    app = AioClock(name="detail", clock=FakeClock(start=START), loop_block_threshold=None)

    @app.task(trigger=Every(seconds=10), name="import rows")
    async def import_rows() -> dict[str, int]:
        log.info("reading the feed")
        if app.clock.now().second >= 10:
            log.warning("row 7 is bad")
            raise ValueError("row 7 is bad")
        return {"rows": 12}

    console = make_app(app, display_tz=timezone.utc, redraw_interval=0.02)
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await advance(pilot, 20)
        select(console, "import rows")
        await pilot.press("enter")
        screen = console.screen
        assert isinstance(screen, DetailScreen)
        runs = screen.query_one("#runs", DataTable)
        await until(lambda: runs.row_count == 2, pilot, "two runs listed")
        assert [str(cell) for cell in runs.get_row_at(1)[2:]] == [
            "ok",
            "schedule",
            "{'rows': 12}",
        ]
        assert str(runs.get_row_at(0)[4]) == "ValueError: row 7 is bad"
        run = text_of(screen, "#run")
        assert "Logged by this run (3 lines)" in run
        assert "INFO    reading the feed" in run and "WARNING row 7 is bad" in run
