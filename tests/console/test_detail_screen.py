"""Pilot tests of the detail screen: next firings, recent runs, traceback, keys."""

from __future__ import annotations

import logging
from datetime import timezone

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Sparkline, Static

from aioclock_core import AioClock, Every
from aioclock_core.testing import FakeClock
from clocktui import model
from clocktui.app import ClockConsole, make_app
from clocktui.screens.detail import DetailScreen
from tests.apps.console_app import START
from tests.console.conftest import (
    SIZE,
    advance,
    build_console,
    open_details,
    select,
    started,
    time_limit,
    until,
)


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


def import_rows_console() -> ClockConsole:
    """A task whose first run (12:00:05, 250 ms) returns a value and whose second (12:00:15,
    1.5 s) logs, warns and fails."""
    app = AioClock(name="detail", clock=FakeClock(start=START), loop_block_threshold=None)
    log = logging.getLogger("fixture.detail")

    @app.task(trigger=Every(seconds=10), name="import rows")
    async def import_rows() -> dict[str, int]:
        second_run = app.clock.now().second >= 10
        await app.clock.sleep(1.5 if second_run else 0.25)
        log.info("reading the feed")
        if second_run:
            log.warning("row 7 is bad")
            raise ValueError("row 7 is bad")
        return {"rows": 12}

    return make_app(app, display_tz=timezone.utc, redraw_interval=0.02)


async def import_rows_details(pilot: Pilot[object]) -> DetailScreen:
    """The details of `import rows` at 12:00:17, both runs over."""
    await started(pilot)
    await advance(pilot, 22)
    return await open_details(pilot, "import rows", runs=2)


@time_limit()
async def test_details_show_a_runs_result_and_what_the_failed_run_logged() -> None:
    console = import_rows_console()
    async with console.run_test(size=SIZE) as pilot:
        screen = await import_rows_details(pilot)
        runs = screen.query_one("#runs", DataTable)
        assert [str(cell) for cell in runs.get_row_at(1)[2:]] == [
            "ok",
            "schedule",
            "{'rows': 12}",
        ]
        assert str(runs.get_row_at(0)[4]) == "ValueError: row 7 is bad"
        run = text_of(screen, "#run")
        assert "Logged by this run (3 lines)" in run
        assert "INFO    reading the feed" in run and "WARNING row 7 is bad" in run


@time_limit()
async def test_any_past_run_opens_from_recent_runs_with_its_lag_attempt_and_value() -> None:
    console = import_rows_console()
    async with console.run_test(size=SIZE) as pilot:
        screen = await import_rows_details(pilot)
        assert "ValueError: row 7 is bad" in text_of(screen, "#run")  # the latest is open
        await pilot.press("down")  # the run before
        run = text_of(screen, "#run")
        assert "Returned  {'rows': 12}" in run
        assert "Late by   0 ms" in run and "Attempt   1" in run
        assert "Took      250 ms" in run
        assert "Scheduled 12:00:05 (12 s ago)" in run
        assert str(screen.query_one("#run-box").border_title) == "Run of 12:00:05"
        await pilot.press("up")
        assert "ValueError: row 7 is bad" in text_of(screen, "#run")


@time_limit()
async def test_the_run_panels_traceback_starts_at_the_users_frame() -> None:
    console = import_rows_console()
    async with console.run_test(size=SIZE) as pilot:
        screen = await import_rows_details(pilot)
        run = text_of(screen, "#run")
        assert "Traceback (most recent call last)" in run and "_runner.py" not in run
        assert "library frame" in run and "in import_rows" in run


@time_limit()
async def test_the_durations_chart_has_a_scale_and_times_say_how_long_ago() -> None:
    console = import_rows_console()
    async with console.run_test(size=SIZE) as pilot:
        screen = await import_rows_details(pilot)
        chart = screen.query_one(Sparkline)
        assert str(chart.border_title) == "Durations · max 1.5 s"
        assert str(chart.border_subtitle) == "min 250 ms · p50 875 ms"
        facts = text_of(screen, "#facts")
        assert "Last run 12:00:15 (2 s ago), failed" in facts
        assert "Next run 12:00:25 (in 8 s)" in facts


@time_limit()
async def test_open_details_keep_all_recent_runs_of_their_task_and_closing_gives_them_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A large app's views keep a few runs each (RECENT_TOTAL in all); the task whose
    details are open keeps RECENT_RUNS while they are. Modelled with a small total."""
    monkeypatch.setattr(model, "RECENT_TOTAL", 3 * len(build_console().model.tasks))
    console = build_console()
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        assert console.model.recent_limit == 3
        view = select(console, "heartbeat")
        await pilot.press("enter")
        assert isinstance(console.screen, DetailScreen)
        assert view.recent.maxlen == model.RECENT_RUNS
        await pilot.press("escape")
        await until(lambda: not isinstance(console.screen, DetailScreen), pilot, "details closed")
        assert view.recent.maxlen == 3
