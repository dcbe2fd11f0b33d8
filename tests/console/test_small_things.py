"""Small things: the header says "all paused", screenshots go where the user is and the
console says where, `--screenshot-dir` and `--attach` are in the help."""

from __future__ import annotations

import gc
from pathlib import Path

from clocktui.app import YOUNG_COLLECTION_AFTER, ClockConsole
from clocktui.cli import build_parser, with_command
from clocktui.widgets.status_header import StatusHeader
from tests.console.conftest import SIZE, build_console, started, time_limit, until


@time_limit()
async def test_the_header_says_all_paused_when_every_task_is() -> None:
    console = build_console(paused=True)
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await until(lambda: console.model.counts()[1] == 6, pilot, "all paused")
        header = console.screen.query_one(StatusHeader)
        await pilot.pause()
        assert "all paused" in header.render().plain
        assert "6 paused" not in header.render().plain


@time_limit()
async def test_a_screenshot_is_saved_in_the_screenshot_dir_and_the_toast_says_where(
    tmp_path: Path,
) -> None:
    console: ClockConsole = build_console()
    console.screenshot_dir = tmp_path
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        console.deliver_screenshot()
        await until(lambda: any(tmp_path.glob("*.svg")), pilot, "the screenshot was saved")
        await until(lambda: bool(console._notifications), pilot, "the toast")
        (saved,) = tmp_path.glob("*.svg")
        assert str(saved) in str(list(console._notifications)[-1].message)


def test_the_screenshot_dir_defaults_to_the_current_directory() -> None:
    assert build_console().screenshot_dir == Path.cwd()


def test_screenshot_dir_and_attach_are_in_the_help() -> None:
    parser = build_parser()
    args = parser.parse_args(with_command(["app:app", "--screenshot-dir", "shots"]))
    assert args.screenshot_dir == "shots"
    run_help = parser._subparsers._group_actions[0].choices["run"].format_help()  # type: ignore[union-attr]
    assert "--screenshot-dir DIR" in run_help
    assert "--attach" in parser.format_help()


@time_limit()
async def test_a_beat_while_the_console_shuts_down_touches_no_screen() -> None:
    """Shutting down removes each screen's widgets before the screen itself; the
    heartbeat can fire in between (seen once in CI on Python 3.10) and must not look for
    a table that is gone."""
    console: ClockConsole = build_console()
    beats: list[BaseException | None] = []
    close_all = console._close_all

    async def close_all_with_a_beat_in_between() -> None:
        screen = console.screen
        await console._prune(*screen.children)  # the widgets go first, as in shutdown
        try:
            console._beat()
            beats.append(None)
        except Exception as error:  # the test reports what a beat raised
            beats.append(error)
        await close_all()

    console._close_all = close_all_with_a_beat_in_between  # type: ignore[method-assign]
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
    assert beats == [None]


@time_limit()
async def test_the_console_collects_young_objects_later_while_it_runs_and_puts_it_back() -> None:
    """A herd's run records live until the screen folds them in; the console raises the
    collector's young threshold so they die before a collection, and restores it."""
    before = gc.get_threshold()
    console: ClockConsole = build_console()
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        assert gc.get_threshold() == (YOUNG_COLLECTION_AFTER, *before[1:])
    assert gc.get_threshold() == before
