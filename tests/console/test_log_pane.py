"""Pilot tests of the log pane: follow and pause, scrollback, level and search."""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

from textual.widgets import Input

from clocktui.app import ClockConsole
from clocktui.logbook import SCROLLBACK, LogEntry
from clocktui.widgets.log_pane import PAUSED_MARK, LogPane
from tests.apps.console_app import START
from tests.console.conftest import SIZE, started, time_limit, until


def lines(count: int, *, level: int = logging.INFO, start: int = 0) -> list[LogEntry]:
    return [
        LogEntry(
            at=START + timedelta(milliseconds=index),
            level=level,
            logger="import",
            message=f"row {index}",
            task_id=None,
            task_name=None,
        )
        for index in range(start, start + count)
    ]


def arrive(console: ClockConsole, entries: list[LogEntry]) -> None:
    """What the app does with records the bridge hands over."""
    for entry in entries:
        console.logbook.add(entry)
    console.screen.logs_added(entries)  # type: ignore[attr-defined]


def pane_of(console: ClockConsole) -> LogPane:
    return console.screen.query_one(LogPane)


def top_line(pane: LogPane) -> str:
    return pane.rows[pane.scroll_offset.y][0].message


@time_limit()
async def test_scrolling_up_stops_following_and_end_or_g_follows_again(
    console: ClockConsole,
) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        pane = pane_of(console)
        arrive(console, lines(100))
        await pilot.pause()
        assert pane.following and pane.scroll_offset.y == pane.max_scroll_y_for(len(pane.rows))
        pane.focus()
        await pilot.press("up")
        assert not pane.following
        assert pane.border_subtitle == PAUSED_MARK
        shown = top_line(pane)
        arrive(console, lines(30, start=100))
        await pilot.pause()
        assert top_line(pane) == shown  # the lines in view stay put
        assert pane.border_subtitle == f"{PAUSED_MARK} · 30 new"
        await pilot.press("G")
        assert pane.following and not pane.border_subtitle
        assert pane.rows[-1][0].message == "row 129"
        assert pane.scroll_offset.y == pane.max_scroll_y_for(len(pane.rows))
        await pilot.press("k", "end")
        assert pane.following


@time_limit()
async def test_the_pane_keeps_ten_thousand_lines_and_a_paused_view_stays_on_its_lines(
    console: ClockConsole,
) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        pane = pane_of(console)
        arrive(console, lines(SCROLLBACK + 500))
        await pilot.pause()
        assert len(pane.rows) == SCROLLBACK and len(console.logbook.entries) == SCROLLBACK
        assert pane.rows[0][0].message == "row 500"
        pane.focus()
        await pilot.press("pageup")
        shown = top_line(pane)
        arrive(console, lines(300, start=SCROLLBACK + 500))  # the oldest fall off the top
        await pilot.pause()
        assert len(pane.rows) == SCROLLBACK
        assert top_line(pane) == shown


@time_limit()
async def test_v_shows_only_records_of_a_level_and_above(console: ClockConsole) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        pane = pane_of(console)
        arrive(console, lines(3) + lines(2, level=logging.WARNING) + lines(1, level=logging.ERROR))
        await pilot.press("v", "v")  # all -> INFO -> WARNING
        levels = {entry.level for entry, _ in pane.rows}
        assert levels == {logging.WARNING, logging.ERROR}
        assert "WARNING and above" in str(pane.border_title)
        await pilot.press("v")
        assert {entry.level for entry, _ in pane.rows} == {logging.ERROR}
        await pilot.press("v")
        assert pane.min_level == logging.NOTSET


@time_limit()
async def test_slash_in_the_log_pane_searches_the_logs_and_escape_clears(
    console: ClockConsole,
) -> None:
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        pane = pane_of(console)
        arrive(console, lines(30))
        pane.focus()
        await pilot.press("slash", *"row 2")
        search = console.screen.query_one("#log-search", Input)
        assert search.has_focus
        messages = [entry.message for entry, _ in pane.rows]
        assert messages == ["row 2", *(f"row {i}" for i in range(20, 30))]
        assert "search 'row 2'" in str(pane.border_title)
        await pilot.press("enter")
        assert pane.has_focus
        await pilot.press("escape")
        assert len(pane.rows) == len(console.logbook.entries)
        assert not search.display


@time_limit()
async def test_the_log_pane_of_one_task_shows_its_tracebacks_from_the_users_frame(
    console: ClockConsole,
) -> None:
    from tests.console.conftest import advance, select

    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await advance(pilot, 30)
        view = select(console, "flaky upload")
        await pilot.press("l")
        pane = pane_of(console)
        await until(lambda: pane.task_id == view.task_id, pilot, "the task's logs")
        text = [pane._render_row(entry, line, pane.rich_style).text for entry, line in pane.rows]
        assert any("library frame" in line for line in text)
        assert not any("_runner.py" in line for line in text)
        assert text[-1] == "ConnectionError: upload server reset the connection"
        assert isinstance(view.task_id, UUID)
