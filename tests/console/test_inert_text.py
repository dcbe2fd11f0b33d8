"""Escape sequences from user code (task names, log messages, errors) are shown inert: in
the console, in `clocktui history` and in headless logs."""

from __future__ import annotations

import html
import logging
import sys
from datetime import timezone
from pathlib import Path

import pytest

from aioclock_core.stores import SQLiteStore
from aioclock_core.testing import FakeClock, serving
from clocktui.app import ClockConsole, make_app
from clocktui.cli import main
from clocktui.formatting import inert
from clocktui.headless import LOG_FORMAT, _RunAwareFormatter
from clocktui.screens.detail import DetailScreen
from tests.apps import hostile_app
from tests.console.conftest import REDRAW_INTERVAL, SIZE, select, settle, time_limit, until

APPS = Path(__file__).parent.parent / "apps"
SHOWN_NAME = "wipe\\x1b[2Jout"


def screen_text(console: ClockConsole) -> str:
    """What the console's screen shows, as text (a screenshot without its SVG)."""
    return html.unescape(console.export_screenshot()).replace("\u00a0", " ")


@pytest.mark.parametrize(
    ("text", "multiline", "shown"),
    [
        ("\x1b[2J", False, "\\x1b[2J"),
        ("bell\x07 and\r\nbreak", False, "bell\\x07 and\\r\\nbreak"),
        ("line 1\n\tline 2\x1b[0m", True, "line 1\n\tline 2\\x1b[0m"),
        ("zero\u200bwidth, café, C:\\dir", False, "zero\\u200bwidth, café, C:\\dir"),
    ],
)
def test_control_characters_are_shown_escaped_as_repr_shows_them(
    text: str, multiline: bool, shown: str
) -> None:
    assert inert(text, multiline=multiline) == shown


@time_limit()
async def test_the_console_shows_names_logs_and_errors_inert() -> None:
    console = make_app(hostile_app.make(), display_tz=timezone.utc, redraw_interval=REDRAW_INTERVAL)
    async with console.run_test(size=SIZE) as pilot:
        await until(lambda: console.logbook.entries, pilot, "the hostile task logged")
        await settle(pilot)
        main_screen = screen_text(console)
        select(console, SHOWN_NAME)
        await pilot.press("enter")
        assert isinstance(console.screen, DetailScreen)
        await pilot.pause()
        details = screen_text(console)
    for screen in (main_screen, details):
        assert "\x1b" not in screen and "\x07" not in screen
        assert SHOWN_NAME in screen
    assert "retitled \\x1b]0;pwned\\x07" in main_screen
    assert "ValueError: \\x1b[31mred alert" in details


async def test_clocktui_history_shows_names_and_errors_inert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = hostile_app.make()
    app.store = SQLiteStore(tmp_path / "runs.sqlite3")
    async with serving(app):
        assert isinstance(app.clock, FakeClock)
        await app.clock.advance(seconds=1)
    code = main(["history", "hostile_app:app", "--db", str(tmp_path / "runs.sqlite3"),
                 "--app-dir", str(APPS)])  # fmt: skip
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert "\x1b" not in out
    assert f"{SHOWN_NAME}  failed" in out
    assert "ValueError: \\x1b[31mred alert" in out


def test_headless_log_lines_show_names_messages_and_tracebacks_inert() -> None:
    try:
        raise ValueError(f"{hostile_app.RED}red alert")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "hostile", logging.ERROR, __file__, 1, "retitled %s", (hostile_app.SET_TITLE,), exc_info
    )
    record.aioclock_task_name = hostile_app.NAME
    line = _RunAwareFormatter(LOG_FORMAT).format(record)
    assert "\x1b" not in line and "\x07" not in line
    assert f"hostile [{SHOWN_NAME}]: retitled \\x1b]0;pwned\\x07\nTraceback" in line
    assert line.endswith("ValueError: \\x1b[31mred alert")
