"""The console attached to a headless app in another process, through its control socket:
the same screens and keys, steering the app there; quitting leaves it running."""

from __future__ import annotations

from datetime import timezone
from pathlib import Path

from textual.widgets import Static

from clocktui.app import ClockConsole
from clocktui.attach import attach_console
from clocktui.model import SchedulerPhase
from clocktui.screens.detail import DetailScreen
from clocktui.sources.socket_client import SocketSource
from clocktui.widgets.log_pane import LogPane
from clocktui.widgets.task_table import TaskTable
from tests.attach.conftest import HeadlessApp, task_state, time_limit
from tests.console.conftest import SIZE, select, until

REDRAW_INTERVAL = 0.02


def attached(path: Path, *, read_only: bool = False) -> ClockConsole:
    console = attach_console(
        SocketSource(path, read_only=read_only),
        read_only=read_only,
        display_tz=timezone.utc,
        redraw_interval=REDRAW_INTERVAL,
    )
    console.theme = "textual-dark"
    return console


async def shown(console: ClockConsole, pilot: object) -> None:
    """Wait until the console shows the app's three tasks and the ticker's runs."""

    def ticking() -> bool:
        views = {view.name: view for view in console.model.tasks.values()}
        rows = console.screen.query_one(TaskTable).order
        return len(views) == len(rows) == 3 and views["ticker"].run_count >= 1

    await until(ticking, pilot, "the app's tasks and runs appeared")  # type: ignore[arg-type]


@time_limit(30)
async def test_rows_appear_and_r_runs_the_task_in_the_headless_process(
    headless: HeadlessApp,
) -> None:
    console = attached(headless.socket)
    async with console.run_test(size=SIZE) as pilot:
        await shown(console, pilot)
        assert console.model.phase is SchedulerPhase.RUNNING
        assert console.title == "attached"
        view = select(console, "by hand")
        assert view.run_count == 0
        await pilot.press("r")
        await until(lambda: view.run_count == 1, pilot, "the manual run came back")
        assert view.last_run is not None and view.last_run.kind.value == "manual"
    assert f"ran by hand in process {headless.process.pid}" in headless.logs()  # type: ignore[union-attr]


@time_limit(30)
async def test_p_pauses_the_task_in_the_headless_process(headless: HeadlessApp) -> None:
    console = attached(headless.socket)
    async with console.run_test(size=SIZE) as pilot:
        await shown(console, pilot)
        view = select(console, "ticker")
        await pilot.press("p")
        await until(lambda: view.paused, pilot, "the console showed the pause")
        assert task_state(headless.socket, "ticker")["paused"] is True
        runs = task_state(headless.socket, "ticker")["run_count"]
        await pilot.pause(1.2)  # more than two periods of the ticker
        assert task_state(headless.socket, "ticker")["run_count"] == runs
        await pilot.press("p")
        await until(lambda: not view.paused, pilot, "the console showed the resume")
        assert task_state(headless.socket, "ticker")["paused"] is False


@time_limit(30)
async def test_the_details_screen_shows_a_runs_logs_and_its_traceback(
    headless: HeadlessApp,
) -> None:
    console = attached(headless.socket)
    async with console.run_test(size=SIZE) as pilot:
        await shown(console, pilot)
        view = select(console, "breaks")
        await pilot.press("r")
        await until(lambda: view.failure_count == 1, pilot, "the failed run came back")
        await pilot.press("enter")
        screen = console.screen
        assert isinstance(screen, DetailScreen)

        def error_text() -> str:
            return str(screen.query_one("#run", Static).render())  # the latest run: it failed

        await until(lambda: "Logged by this run" in error_text(), pilot, "the run's logs")
        assert "about to break" in error_text()
        assert "RuntimeError: broken on purpose" in error_text()
        pane = screen.query_one(LogPane)
        assert pane.task_id == view.task_id
        logged = console.logbook.of_task(view.task_id)
        assert any(entry.message == "about to break" for entry in logged)
        await until(
            lambda: str(screen.query_one("#upcoming", Static).render()).count(":") == 10,
            pilot,
            "the next five firings came from the app",
        )


@time_limit(30)
async def test_read_only_hides_the_control_keys_and_sends_nothing(headless: HeadlessApp) -> None:
    console = attached(headless.socket, read_only=True)
    async with console.run_test(size=SIZE) as pilot:
        await shown(console, pilot)
        shown_keys = {binding.key for (_, binding, enabled, _) in console.active_bindings.values()}
        assert not {"r", "p", "P", "c"} & shown_keys
        select(console, "ticker")
        await pilot.press("p", "r", "P")
        await pilot.pause(0.3)
        assert task_state(headless.socket, "ticker")["paused"] is False
        assert all(not view.paused for view in console.model.tasks.values())


@time_limit(60)
async def test_the_console_says_disconnected_and_reconnects_after_the_app_restarts(
    headless: HeadlessApp,
) -> None:
    console = attached(headless.socket)
    async with console.run_test(size=SIZE) as pilot:
        await shown(console, pilot)
        before = console.model.tasks
        headless.stop()
        await until(
            lambda: console.model.phase is SchedulerPhase.DISCONNECTED, pilot, "disconnected"
        )
        assert any("retrying" in n.title for n in console._notifications)
        headless.start()
        await until(lambda: console.model.tasks is not before, pilot, "a new snapshot")
        await shown(console, pilot)
        assert console.model.phase is SchedulerPhase.RUNNING


@time_limit(30)
async def test_quitting_the_attached_console_leaves_the_app_running(headless: HeadlessApp) -> None:
    console = attached(headless.socket)
    async with console.run_test(size=SIZE) as pilot:
        await shown(console, pilot)
        await pilot.press("q")
    assert headless.process is not None and headless.process.poll() is None
    assert task_state(headless.socket, "ticker")["run_count"] >= 1
