"""Firings missed while the app was stopped: one summary line, in the console and headless."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aioclock_core.stores import SQLiteStore
from clocktui.app import make_app
from clocktui.restart_summary import MissedWhileStopped
from tests.apps import console_app
from tests.console.conftest import SIZE, started, time_limit, until
from tests.console.test_history_seed import previous_session

SINCE = datetime(2026, 3, 28, 12, 0, tzinfo=timezone.utc)


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def missed(task: str, count: int, last: datetime) -> logging.LogRecord:
    """The core's warning (its format string, as the scheduler logs it)."""
    return logging.LogRecord(
        "aioclock",
        logging.WARNING,
        "scheduler",
        1,
        "Task %s: %d firing(s) up to %s missed (the scheduler woke up late)",
        (task, count, last.isoformat()),
        None,
    )


def test_missed_firings_before_the_start_make_one_line() -> None:
    kept = Kept()
    summary = MissedWhileStopped.attach(kept, SINCE)
    for task, count in (("heartbeat", 120), ("sync", 5), ("export", 1)):
        kept.handle(missed(task, count, SINCE - timedelta(seconds=3)))
    kept.handle(missed("late one", 2, SINCE + timedelta(seconds=1)))  # woke up late: kept
    summary.flush()
    assert kept.lines == [
        "Task late one: 2 firing(s) up to 2026-03-28T12:00:01+00:00 missed (the scheduler "
        "woke up late)",
        "missed 126 firings of 3 tasks while stopped",
    ]


def test_the_summary_comes_once_the_warnings_stop() -> None:
    kept = Kept()
    summary = MissedWhileStopped(kept, SINCE, quiet=0.05)
    kept.addFilter(summary)
    kept.handle(missed("heartbeat", 1, SINCE - timedelta(seconds=3)))
    import time

    deadline = time.monotonic() + 5
    while not kept.lines and time.monotonic() < deadline:
        time.sleep(0.01)
    assert kept.lines == ["missed 1 firing of 1 task while stopped"]


@time_limit()
async def test_after_a_restart_the_log_pane_has_one_line_for_the_firings_missed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "fixture.sqlite3"
    await previous_session(path)  # an hour before this session
    app = console_app.make()
    app.store = SQLiteStore(path)
    console = make_app(app, display_tz=timezone.utc)
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)

        def messages() -> list[str]:
            return [entry.message for entry in console.logbook.entries]

        await until(lambda: any("while stopped" in m for m in messages()), pilot, "the summary")
        summary = [m for m in messages() if "while stopped" in m]
        assert len(summary) == 1 and summary[0].startswith("missed ")
        assert summary[0].endswith(" tasks while stopped")
        assert not any("woke up late" in m for m in messages())


def test_headless_logs_one_summary_line_too(tmp_path: Path) -> None:
    import subprocess
    import sys

    # A first run records the last firings; the second starts 3 s later (real time).
    script = tmp_path / "app.py"
    script.write_text(
        "from aioclock_core import AioClock, Every\n"
        "app = AioClock(name='restarted')\n"
        "for name in ('a', 'b'):\n"
        "    app.task(trigger=Every(seconds=0.2), name=name)(lambda: None)\n"
    )
    db = tmp_path / "h.sqlite3"
    command = [sys.executable, "-m", "clocktui", f"{script}:app", "--headless", "--db", str(db)]

    def serve(seconds: float) -> str:
        process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        try:
            process.wait(seconds)
        except subprocess.TimeoutExpired:
            process.send_signal(2)
        return process.communicate(timeout=30)[1]

    serve(2.0)
    import time

    time.sleep(1.5)
    stderr = serve(3.0)
    assert "woke up late" not in stderr
    lines = [line for line in stderr.splitlines() if "while stopped" in line]
    assert len(lines) == 1 and "of 2 tasks while stopped" in lines[0]
