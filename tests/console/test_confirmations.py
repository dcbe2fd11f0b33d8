"""What is hard to undo asks once: q with runs in flight, P, c; ctrl+q quits at once."""

from __future__ import annotations

import asyncio
from datetime import timezone

from textual.pilot import Pilot
from textual.widgets import Footer

from aioclock_core import AioClock, Every
from aioclock_core.testing import FakeClock
from clocktui.app import ClockConsole, make_app
from clocktui.model import TaskView
from clocktui.screens.confirm import ConfirmScreen
from clocktui.screens.help import KEYS
from clocktui.widgets.status_header import StatusHeader
from tests.apps.console_app import START
from tests.console.conftest import SIZE, advance, select, started, time_limit, until


def busy_console() -> tuple[ClockConsole, asyncio.Event]:
    """A console whose one task's run goes on until the event is set."""
    app = AioClock(
        name="busy", clock=FakeClock(start=START), loop_block_threshold=None, shutdown_grace=0
    )
    release = asyncio.Event()

    @app.task(trigger=Every(seconds=10), name="long job")
    async def long_job() -> None:
        await release.wait()

    return make_app(app, display_tz=timezone.utc, redraw_interval=0.02), release


async def start_the_long_run(pilot: Pilot[object]) -> TaskView:
    """Let the busy console's task start its run; returns the task's view."""
    console = pilot.app
    assert isinstance(console, ClockConsole)
    await started(pilot)
    view = select(console, "long job")
    await advance(pilot, 10)
    await until(lambda: view.running == 1, pilot, "the run goes")
    return view


@time_limit()
async def test_q_with_a_run_in_flight_asks_and_another_key_keeps_the_console() -> None:
    console, _ = busy_console()
    async with console.run_test(size=SIZE) as pilot:
        await start_the_long_run(pilot)
        await pilot.press("q")
        assert isinstance(console.screen, ConfirmScreen)
        assert "1 run is in flight" in console.screen.question
        await pilot.press("n")
        assert not isinstance(console.screen, ConfirmScreen)
        assert not console.stop_requests
        await pilot.press("q", "q")  # a second q confirms
        await until(lambda: console.source.stopped, pilot, "the scheduler stopped")
    assert console.return_code == 0


@time_limit()
async def test_y_confirms_and_ctrl_q_quits_at_once_without_asking() -> None:
    console, _ = busy_console()
    async with console.run_test(size=SIZE) as pilot:
        await start_the_long_run(pilot)
        await pilot.press("ctrl+q")
        assert not isinstance(console.screen, ConfirmScreen)
        assert console.stop_requests == 1
        await until(lambda: console.source.stopped, pilot, "the scheduler stopped")


@time_limit()
async def test_q_without_runs_in_flight_quits_without_asking(console: ClockConsole) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("q")
        assert console.stop_requests == 1 and not isinstance(console.screen, ConfirmScreen)


@time_limit()
async def test_shift_p_asks_and_any_other_key_pauses_nothing(console: ClockConsole) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("P")
        assert isinstance(console.screen, ConfirmScreen)
        assert console.screen.question.startswith("Pause all 6 tasks?")
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert console.model.counts()[1] == 0
        await pilot.press("P", "y")
        await until(lambda: console.model.counts()[1] == 6, pilot, "all tasks are paused")


@time_limit()
async def test_c_asks_before_cancelling_a_run_and_says_when_there_is_none() -> None:
    console, _ = busy_console()
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        view = select(console, "long job")
        await pilot.press("c")  # nothing runs: nothing to ask
        assert not isinstance(console.screen, ConfirmScreen)
        header = console.screen.query_one(StatusHeader)
        assert header.flash_text == "long job: no run to cancel"
        await advance(pilot, 10)
        await until(lambda: view.running == 1, pilot, "the run goes")
        await pilot.press("c")
        assert isinstance(console.screen, ConfirmScreen)
        await pilot.press("c")
        await until(lambda: view.running == 0, pilot, "the run was cancelled")
        assert view.last_run is not None and view.last_run.outcome.value == "cancelled"  # type: ignore[union-attr]


@time_limit()
async def test_the_footer_and_the_help_say_which_keys_ask(console: ClockConsole) -> None:
    async with console.run_test(size=(200, 45)) as pilot:
        await started(pilot)
        footer = console.screen.query_one(Footer)
        await pilot.pause()
        labels = {key.description for key in footer.query("FooterKey")}  # type: ignore[attr-defined]
        assert {"Pause all…", "Cancel run…", "Quit…"} <= labels
    keys = dict(KEYS)
    assert "asks first" in keys["P"] and "asks first" in keys["c"] and "asks first" in keys["q"]
    assert keys["ctrl+q"] == "Quit without asking"
