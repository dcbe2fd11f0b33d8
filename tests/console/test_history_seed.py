"""The console after a restart: runs and pauses of a previous session come from the store."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path

from textual.widgets import DataTable

from aioclock_core.events import RunOutcome
from aioclock_core.stores import SQLiteStore
from aioclock_core.testing import FakeClock, serving
from clocktui.app import ClockConsole, make_app
from clocktui.screens.detail import DetailScreen
from tests.apps import console_app
from tests.console.conftest import SIZE, select, started, time_limit, until
from tests.console.test_detail_screen import text_of


async def previous_session(path: Path, *, pause: str | None = None) -> None:
    """Serve the fixture app for a minute on its own, an hour before the next session
    starts: flaky upload fails twice."""
    app = console_app.make()
    app.store = SQLiteStore(path)
    app.clock = clock = FakeClock(start=console_app.START - timedelta(hours=1))
    async with serving(app):
        if pause:
            await app.pause(pause)
        await clock.advance(60)


def next_session(path: Path) -> ClockConsole:
    app = console_app.make()
    app.store = SQLiteStore(path)
    app.resume_schedules = False  # no catch-up runs: the screen shows only the old ones
    console = make_app(app, display_tz=timezone.utc)
    console.theme = "textual-dark"
    return console


@time_limit()
async def test_the_detail_screen_shows_runs_of_the_previous_session(tmp_path: Path) -> None:
    path = tmp_path / "fixture.sqlite3"
    await previous_session(path)
    console = next_session(path)
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        view = select(console, "flaky upload")
        await until(lambda: view.last_outcome is not None, pilot, "the last run was loaded")
        assert (view.last_outcome, view.run_count, len(view.recent)) == (RunOutcome.FAILED, 0, 1)
        await pilot.press("enter")
        screen = console.screen
        assert isinstance(screen, DetailScreen)
        await until(lambda: screen.query_one("#runs", DataTable).row_count == 2, pilot, "rows")
        assert "ConnectionError: upload server reset the connection" in text_of(screen, "#run")


@time_limit()
async def test_a_task_paused_before_the_restart_shows_paused(tmp_path: Path) -> None:
    path = tmp_path / "fixture.sqlite3"
    await previous_session(path, pause="heartbeat")
    console = next_session(path)
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        view = select(console, "heartbeat")
        await until(lambda: view.paused, pilot, "the restored pause was shown")
        assert view.state == "paused"
