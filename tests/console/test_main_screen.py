"""Pilot tests of the main screen: rows, keys, filter, sort, logs and quitting."""

from __future__ import annotations

import asyncio
from datetime import timedelta, timezone

from rich.text import Text
from textual.strip import Strip

from aioclock_core import AioClock, Every, Once
from aioclock_core.events import RunKind, RunOutcome, RunStarted, TaskPaused
from aioclock_core.testing import EventRecorder, FakeClock
from clocktui.app import ClockConsole, make_app
from clocktui.model import SchedulerPhase
from clocktui.widgets.log_pane import LogPane
from clocktui.widgets.status_header import StatusHeader
from clocktui.widgets.task_table import TaskTable
from tests.apps import console_app, stubborn_app
from tests.console.conftest import (
    REDRAW_INTERVAL,
    SIZE,
    advance,
    build_console,
    hosted,
    select,
    settle,
    started,
    time_limit,
    until,
)


def table_of(console: ClockConsole) -> TaskTable:
    return console.screen.query_one(TaskTable)


def shown_names(console: ClockConsole) -> list[str]:
    return [console.model.tasks[task_id].name for task_id in table_of(console).order]


@time_limit()
async def test_table_lists_every_task_sorted_by_name_with_trigger_words(
    console: ClockConsole,
) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        assert shown_names(console) == [
            "flaky upload",
            "heartbeat",
            "noon report",
            "sync inventory",
            "warm cache",
            "weekly digest",
        ]
        triggers = {view.name: view.trigger for view in console.model.tasks.values()}
        assert triggers["noon report"] == "cron 0 12 * * * Asia/Kolkata"
        assert triggers["weekly digest"] == "at 14:00 on Sundays UTC"


@time_limit()
async def test_countdown_follows_the_fake_clock(console: ClockConsole) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        view = select(console, "heartbeat")
        table = table_of(console)
        assert table.cell_texts(view)["countdown"] == "10 s"
        await advance(pilot, 3)
        assert table.cell_texts(view)["countdown"] == "7 s"


@time_limit()
async def test_the_table_redraws_only_the_lines_whose_text_changed(
    console: ClockConsole,
) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        table = table_of(console)
        drawn: list[int] = []
        render_line = table.render_line

        def spy(y: int) -> Strip:
            drawn.append(y)
            return render_line(y)

        table.render_line = spy  # type: ignore[method-assign]
        header = console.screen.query_one(StatusHeader)
        headers: list[Text] = []
        render_header = header.render

        def spy_header() -> Text:
            headers.append(render_header())
            return headers[-1]

        header.render = spy_header  # type: ignore[method-assign]
        console.screen.tick()  # the clock stood still: nothing to draw
        await pilot.pause()
        await pilot.pause()
        assert drawn == []
        assert headers == []

        await advance(pilot, 1)  # countdowns under an hour move on; hours and days do not
        console.screen.tick()
        await pilot.pause()
        await pilot.pause()
        redrawn = {table.order[y - 1] for y in drawn if y > 0}
        names = {console.model.tasks[task_id].name for task_id in redrawn}
        assert names == {"flaky upload", "heartbeat", "sync inventory"}
        assert 0 not in drawn  # the table's title line did not change either
        assert "11:59:56" in headers[-1].plain  # the clock did (it started at 11:59:55)


@time_limit()
async def test_r_starts_a_manual_run_of_the_selected_task(console: ClockConsole) -> None:
    recorder = EventRecorder(hosted(console).app)
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        view = select(console, "heartbeat")
        await pilot.press("r")
        await until(lambda: view.run_count == 1, pilot, "the run finished")
        runs = [e for e in recorder.of_type(RunStarted) if isinstance(e, RunStarted)]
        manual = [(e.task_name, e.run.kind) for e in runs if e.run.kind is RunKind.MANUAL]
        assert manual == [("heartbeat", RunKind.MANUAL)]


@time_limit()
async def test_p_pauses_the_selected_task_and_its_row_shows_paused(console: ClockConsole) -> None:
    recorder = EventRecorder(hosted(console).app)
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        view = select(console, "heartbeat")
        await pilot.press("p")
        await until(lambda: view.paused, pilot, "the task is paused")
        await settle(pilot)
        cells = table_of(console).cell_texts(view)
        assert cells["state"] == "paused"
        assert cells["countdown"] == ""  # no countdown while paused
        assert [e.task_name for e in recorder.of_type(TaskPaused)] == ["heartbeat"]  # type: ignore[attr-defined]
        await pilot.press("p")
        await until(lambda: not view.paused, pilot, "the task is resumed")


@time_limit()
async def test_shift_p_pauses_every_task_then_resumes_them(console: ClockConsole) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("P", "y")  # it asks first: y confirms
        await until(lambda: console.model.counts()[1] == 6, pilot, "all tasks are paused")
        await pilot.press("P", "P")  # so does a second P
        await until(lambda: console.model.counts()[1] == 0, pilot, "all tasks are resumed")


@time_limit()
async def test_paused_option_starts_with_every_task_paused() -> None:
    console = build_console(paused=True)
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await until(lambda: console.model.counts()[1] == 6, pilot, "all tasks are paused")


@time_limit()
async def test_filter_hides_rows_that_do_not_match(console: ClockConsole) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("slash", "r", "e", "p")
        assert shown_names(console) == ["noon report", "weekly digest"]  # by name or group
        await pilot.press("enter")
        assert table_of(console).has_focus
        await pilot.press("escape")
        assert len(shown_names(console)) == 6


@time_limit()
async def test_s_cycles_the_sort_column(console: ClockConsole) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("s")
        assert table_of(console).sort_key == "next"
        await advance(pilot, 0)
        assert shown_names(console) == [
            "heartbeat",
            "flaky upload",
            "sync inventory",
            "noon report",
            "weekly digest",
            "warm cache",  # ran once: no next run, so last
        ]


@time_limit()
async def test_failing_task_shows_failed_and_counts_it(console: ClockConsole) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await advance(pilot, 30)
        view = select(console, "flaky upload")
        assert view.failing and view.failure_count == 1
        assert table_of(console).cell_texts(view)["outcome"] == "failed"
        assert console.model.counts()[2] == 1
        assert any("flaky upload failed" in str(n.message) for n in console._notifications)


@time_limit()
async def test_log_pane_shows_task_logs_and_l_switches_to_the_selected_task(
    console: ClockConsole,
) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await advance(pilot, 10)
        await until(lambda: len(console.logbook.entries) >= 2, pilot, "logs arrived")
        names = {entry.task_name for entry in console.logbook.entries}
        assert {"heartbeat", "warm cache"} <= names
        warm = next(e for e in console.logbook.entries if e.task_name == "warm cache")
        assert warm.message == "cache [bold]warm[/]"
        select(console, "heartbeat")
        await pilot.press("l")
        pane = console.screen.query_one(LogPane)
        assert pane.task_id == select(console, "heartbeat").task_id
        assert pane.border_title == "Logs: heartbeat"
        await pilot.press("l")
        assert pane.task_id is None


@time_limit()
async def test_q_stops_the_scheduler_runs_the_lifespan_exit_and_exits_zero(
    console: ClockConsole,
) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("q")
        await until(lambda: hosted(console).host.stopped, pilot, "the scheduler stopped")
        await pilot.pause()
    assert hosted(console).app.lifespan_steps == ["enter", "exit"]  # type: ignore[attr-defined]
    assert console.return_code == 0
    assert console.model.phase is SchedulerPhase.STOPPED


def stubborn_console(*, exit_hangs: bool = False) -> ClockConsole:
    app = stubborn_app.make(clock=FakeClock(start=console_app.START), exit_hangs=exit_hangs)
    return make_app(app, display_tz=timezone.utc, redraw_interval=REDRAW_INTERVAL)


@time_limit()
async def test_a_second_q_cancels_running_runs_and_still_runs_the_shutdown_steps() -> None:
    console = stubborn_console()
    steps = console.source.app.steps  # type: ignore[attr-defined]
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await until(lambda: "long run started" in steps, pilot, "the long run started")
        await until(lambda: console.model.counts()[0] == 1, pilot, "the console saw the run")
        await pilot.press("q", "y")  # a run is in flight: asked, confirmed; 60 s of grace
        await pilot.press("q")  # on a clock that does not move... cut short
        await until(lambda: console.source.stopped, pilot, "the scheduler stopped")
        await pilot.pause()
    assert steps == [
        "long run started",
        "shutdown task ran",
        "lifespan exit started",
        "lifespan exit finished",
    ]
    assert console.return_code == 0


@time_limit()
async def test_a_third_q_leaves_at_once_without_waiting_for_the_shutdown() -> None:
    console = stubborn_console(exit_hangs=True)
    steps = console.source.app.steps  # type: ignore[attr-defined]
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await until(lambda: "long run started" in steps, pilot, "the long run started")
        await until(lambda: console.model.counts()[0] == 1, pilot, "the console saw the run")
        await pilot.press("q", "y", "q")  # asked and confirmed, then hurried
        await until(lambda: "lifespan exit started" in steps, pilot, "the lifespan exit began")
        await pilot.press("q")
    assert console.return_code == 130
    assert console.source.abandoned
    assert "lifespan exit finished" not in steps


@time_limit()
async def test_help_screen_opens_with_question_mark_and_closes_with_escape(
    console: ClockConsole,
) -> None:
    from clocktui.screens.help import HelpScreen

    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("question_mark")
        assert isinstance(console.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(console.screen, HelpScreen)


@time_limit()
async def test_command_palette_runs_a_task_by_name(console: ClockConsole) -> None:
    recorder = EventRecorder(hosted(console).app)
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"Run heartbeat")
        await pilot.pause(0.3)
        await pilot.press("enter")

        def manual_runs() -> list[str]:
            runs = recorder.of_type(RunStarted)
            return [
                r.task_name
                for r in runs
                if isinstance(r, RunStarted) and r.run.kind is RunKind.MANUAL
            ]

        await until(lambda: bool(manual_runs()), pilot, "the manual run started")
        assert manual_runs() == ["heartbeat"]


@time_limit()
async def test_the_console_makes_the_scheduler_build_no_event_per_firing(
    console: ClockConsole,
) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await advance(pilot, 10)
        bus = hosted(console).app._bus
        assert not bus.wants_runs and not bus.wants_plans
        view = select(console, "heartbeat")
        assert view.run_count == 1 and view.last_outcome is not None
        assert view.next_fire_time == console.now() + timedelta(seconds=10)


@time_limit()
async def test_a_burst_of_model_changes_redraws_the_table_at_most_twice(
    console: ClockConsole,
) -> None:
    console.redraw_interval = 0.25
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.pause(0.3)  # out of the last redraw's window
        table = table_of(console)
        redraws = []
        original = table.model_updated

        def counted() -> None:
            redraws.append(console.now())
            original()

        table.model_updated = counted  # type: ignore[method-assign]
        for index in range(50):
            console.screen.model_changed()  # type: ignore[attr-defined]
            if index % 10 == 0:
                await pilot.pause()
        await until(lambda: not console.screen.redraw_pending, pilot, "the trailing redraw")  # type: ignore[attr-defined]
        assert 1 <= len(redraws) <= 2


@time_limit()
async def test_a_long_run_shows_running_while_it_keeps_the_scheduler_busy() -> None:
    clock = FakeClock()
    app = AioClock(name="long", clock=clock, loop_block_threshold=None)
    release = asyncio.Event()

    @app.task(trigger=Once(), name="long job")
    async def long_job() -> None:
        await release.wait()

    console = make_app(app, display_tz=timezone.utc, redraw_interval=REDRAW_INTERVAL)
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        view = select(console, "long job")
        # No burst ends while the run goes on: the console's own poll brings its start.
        await until(lambda: view.state == "running", pilot, "the run shows as running")
        assert table_of(console).cell_texts(view)["state"].startswith("running")
        hosted(console).host.loop.call_soon_threadsafe(release.set)
        await until(lambda: view.run_count == 1, pilot, "the run's end arrives")
        assert view.state == "finished" and view.last_outcome is RunOutcome.SUCCEEDED


@time_limit()
async def test_while_a_run_goes_and_firings_are_skipped_the_row_shows_the_last_finished_run() -> (
    None
):
    clock = FakeClock()
    app = AioClock(name="overlap", clock=clock, loop_block_threshold=None)
    release = asyncio.Event()
    calls = 0

    @app.task(trigger=Every(seconds=10), name="slow sync")
    async def slow_sync() -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # the second run outlives its period
            await release.wait()

    console = make_app(app, display_tz=timezone.utc, redraw_interval=REDRAW_INTERVAL)
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        view = select(console, "slow sync")
        await advance(pilot, 10)  # the first firing: a quick run at 00:00:10
        assert view.run_count == 1
        await advance(pilot, 10)  # the second run starts at 00:00:20 and waits
        await until(lambda: view.state == "running", pilot, "the second run shows")
        await advance(pilot, 3)
        table = table_of(console)
        cells = table.cell_texts(view)
        assert (cells["state"], cells["last"], cells["outcome"]) == (
            "running 3 s",
            "00:00:10",
            "ok",
        )

        await advance(pilot, 7)  # the third firing finds the second run still going
        await until(lambda: view.skip_count == 1, pilot, "the skip arrives")
        cells = table.cell_texts(view)
        assert (cells["state"], cells["last"], cells["outcome"], cells["skips"]) == (
            "running 10 s",
            "00:00:10",
            "ok",
            "1",
        )

        await advance(pilot, 2)
        hosted(console).host.loop.call_soon_threadsafe(release.set)
        await until(lambda: view.run_count == 2, pilot, "the second run's end arrives")
        cells = table.cell_texts(view)
        assert (cells["state"], cells["last"], cells["outcome"], cells["duration"]) == (
            "idle",
            "00:00:20",
            "ok",
            "12 s",
        )


@time_limit()
async def test_the_header_says_when_the_history_cannot_be_written(tmp_path: object) -> None:
    from pathlib import Path

    from tests.apps.history_unwritable import UnwritableStore

    app = AioClock(
        name="unwritable",
        clock=FakeClock(start=console_app.START),
        store=UnwritableStore(Path(str(tmp_path)) / "h.sqlite3", batch_interval=0.05),
        loop_block_threshold=None,
    )

    @app.task(trigger=Every(seconds=1), name="tick")
    async def tick() -> None: ...

    console = make_app(app, display_tz=timezone.utc, redraw_interval=0.02)
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        header = console.screen.query_one(StatusHeader)
        assert "history not written" not in header.render().plain
        await advance(pilot, 2)
        await until(lambda: console.model.history_failure is not None, pilot, "the failure")
        await until(lambda: "⚠ history not written" in header.render().plain, pilot, "the warning")
        assert "readonly" in (console.model.history_failure or "")


@time_limit()
async def test_tasks_added_and_removed_while_serving_come_and_go_as_rows(
    console: ClockConsole,
) -> None:
    app = console.source.app  # type: ignore[attr-defined]
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        table = table_of(console)
        before = len(table.order)

        async def added() -> None: ...

        app.task(trigger=Every(minutes=5), name="added live")(added)  # from the UI thread
        await until(lambda: len(table.order) == before + 1, pilot, "the new row")
        view = select(console, "added live")
        assert view.trigger == "every 5 min"
        await until(lambda: view.next_fire_time is not None, pilot, "its next firing")
        app.threadsafe.remove_task("heartbeat").result(timeout=5)
        await until(lambda: len(table.order) == before, pilot, "the removed row gone")
        assert "heartbeat" not in {v.name for v in console.model.tasks.values()}


@time_limit()
async def test_the_details_show_each_attempt_of_a_retried_run() -> None:
    app = AioClock(
        name="retries", clock=FakeClock(start=console_app.START), loop_block_threshold=None
    )

    @app.task(trigger=Once(), name="flaky", retries=2, retry_delay=1)
    async def flaky() -> None:
        raise ConnectionError("down")

    @app.task(trigger=Every(hours=1), name="keeps the app serving")
    async def hourly() -> None: ...

    console = make_app(app, display_tz=timezone.utc, redraw_interval=0.02)
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await advance(pilot, 5)
        select(console, "flaky")
        await pilot.press("enter")
        screen = console.screen
        from textual.widgets import DataTable

        runs = screen.query_one("#runs", DataTable)
        await until(lambda: runs.row_count == 3, pilot, "three attempts")
        kinds = [str(runs.get_row_at(row)[3]) for row in range(3)]
        assert kinds == ["retry 3", "retry 2", "schedule"]


@time_limit()
async def test_a_skipped_firing_of_a_paused_task_leaves_its_failure_shown(
    console: ClockConsole,
) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await advance(pilot, 30)  # flaky upload fails at 12:00:25
        view = select(console, "flaky upload")
        await pilot.press("p")
        await until(lambda: view.paused, pilot, "the task is paused")
        await advance(pilot, 30)  # its 12:00:55 firing is skipped: it is paused
        await until(lambda: view.skip_count >= 1, pilot, "the skip arrives")
        cells = table_of(console).cell_texts(view)
        assert (cells["last"], cells["outcome"], cells["failures"]) == ("12:00:25", "failed", "1")
        assert cells["name"].startswith("✗")
        assert console.model.counts()[2] == 1
