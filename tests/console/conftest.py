"""Fixtures for console tests: a fixture app on a FakeClock and helpers to drive it."""

from __future__ import annotations

import asyncio
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta, timezone
from pathlib import Path
from typing import TypeVar

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from aioclock_core import AioClock
from aioclock_core.testing import FakeClock
from clocktui.app import ClockConsole, make_app
from clocktui.model import SchedulerPhase, TaskView
from clocktui.screens.detail import DetailScreen
from clocktui.screens.timeline import TimelineScreen
from clocktui.sources.in_process import InProcessSource
from clocktui.widgets.task_table import TaskTable
from tests.apps import console_app
from tests.bounds import time_limit  # noqa: F401 - re-exported to the tests here

T = TypeVar("T")
ROOT = Path(__file__).parent.parent.parent
SIZE = (160, 45)
STEP_TIMEOUT = 5.0
"""Real seconds any single wait in a console test may take."""
REDRAW_INTERVAL = 0.02
"""The tests' redraw throttle (the default 0.25 s would only make them wait longer)."""


def build_console(
    *, fail: bool = True, paused: bool = False, target: AioClock | None = None
) -> ClockConsole:
    """The console of a fresh fixture app (`target`, default the console fixture app): UTC
    display, pinned theme, frozen clock."""
    console = make_app(
        target or console_app.make(fail=fail),
        display_tz=timezone.utc,
        paused=paused,
        redraw_interval=REDRAW_INTERVAL,
    )
    console.theme = "textual-dark"
    return console


@pytest.fixture(autouse=True)
def isolated_history(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI keeps history under $XDG_DATA_HOME and its control sockets under
    $XDG_RUNTIME_DIR by default: never the real ones in tests (subprocesses inherit them)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path_factory.mktemp("xdg-run")))


def hosted(console: ClockConsole) -> InProcessSource:
    """The source of a console that hosts its app (its `app` and `host`)."""
    source = console.source
    assert isinstance(source, InProcessSource)
    return source


@pytest.fixture
def console() -> ClockConsole:
    return build_console()


async def bounded(awaitable: Awaitable[T], timeout: float = STEP_TIMEOUT) -> T:
    """Await with a timeout, so a broken test fails instead of hanging."""
    return await asyncio.wait_for(awaitable, timeout)


async def until(condition: Callable[[], bool], pilot: Pilot[object], what: str) -> None:
    """Let the console process messages until `condition` holds (bounded)."""

    async def poll() -> None:
        while not condition():
            await pilot.pause(0.01)

    try:
        await bounded(poll())
    except TimeoutError:
        raise AssertionError(f"timed out waiting until {what}") from None


async def settle(pilot: Pilot[object]) -> None:
    """Wait until every event published so far has reached the console and been drawn."""
    console = pilot.app
    assert isinstance(console, ClockConsole)
    delivered = await bounded(asyncio.to_thread(hosted(console).app.flush_events, STEP_TIMEOUT))
    assert delivered, "the core's event bus did not deliver in time"
    await pilot.pause()
    await pilot.pause()
    await until(lambda: not console.inbox.runs_pending, pilot, "the console took the runs")
    await until(lambda: console.inbox.logs.idle, pilot, "the console took the log records")
    await until(
        lambda: not any(getattr(s, "redraw_pending", False) for s in console.screen_stack),
        pilot,
        "the table redrew",
    )
    await pilot.pause()


async def started(pilot: Pilot[object]) -> None:
    """Wait until the hosted scheduler runs and the console knows it."""
    console = pilot.app
    assert isinstance(console, ClockConsole)
    await until(lambda: console.model.phase is SchedulerPhase.RUNNING, pilot, "the app started")
    await settle(pilot)


async def advance(pilot: Pilot[object], seconds: float) -> None:
    """Move the fake clock on the scheduler's own loop, then let the console catch up."""
    console = pilot.app
    assert isinstance(console, ClockConsole)
    clock = hosted(console).app.clock
    assert isinstance(clock, FakeClock)
    future = asyncio.run_coroutine_threadsafe(clock.advance(seconds), hosted(console).host.loop)
    await bounded(asyncio.wrap_future(future))
    await settle(pilot)


def select(console: ClockConsole, name: str) -> TaskView:
    """Put the main table's cursor on the task called `name`."""
    view = next(v for v in console.model.tasks.values() if v.name == name)
    console.screen.query_one(TaskTable).select(view.task_id)
    return view


async def open_details(pilot: Pilot[object], name: str, runs: int = 0) -> DetailScreen:
    """Open the details of the task called `name` and wait until `runs` runs are listed."""
    console = pilot.app
    assert isinstance(console, ClockConsole)
    select(console, name)
    await pilot.press("enter")
    screen = console.screen
    assert isinstance(screen, DetailScreen)
    table = screen.query_one("#runs", DataTable)
    await until(lambda: table.row_count >= runs, pilot, f"{runs} runs are listed")
    return screen


async def open_timeline(
    pilot: Pilot[object], span: timedelta = timedelta(hours=1)
) -> TimelineScreen:
    """Press t (if the timeline is not open yet) and wait until it shows `span`."""
    console = pilot.app
    assert isinstance(console, ClockConsole)
    if not isinstance(console.screen, TimelineScreen):
        await pilot.press("t")
    screen = console.screen
    assert isinstance(screen, TimelineScreen)

    def drawn() -> bool:
        data = screen.chart.data
        return data is not None and data.simulation.end - data.simulation.start == span

    await until(drawn, pilot, f"the timeline showed {span}")
    await pilot.pause()
    return screen


class ClocktuiProcess:
    """`clocktui ARGS` in a subprocess, its stderr read on a thread so that every wait
    for a line is bounded (a hung process fails the test instead of hanging it)."""

    def __init__(self, args: tuple[str, ...], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "clocktui", *args],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = 20.0) -> None:
        """Wait until a line of stderr contains `text`."""
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = ""
            if not line:
                raise AssertionError(f"no line with {text!r}; stderr so far:\n{self.stderr}")
            self.lines.append(line)

    def finish(self, timeout: float = 20.0) -> int:
        """Wait for the process to exit (bounded); returns its exit code."""
        code = self.process.wait(timeout)
        self._reader.join(timeout)
        while not self._queue.empty():
            line = self._queue.get_nowait()
            if line is not None:
                self.lines.append(line)
        return code

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def stop(self) -> None:
        """Kill the process if it still runs."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        self._reader.join(10)  # it ends at the pipe's end of file
        if self.process.stderr is not None:
            self.process.stderr.close()


@pytest.fixture
def clocktui_process() -> Iterator[Callable[..., ClocktuiProcess]]:
    """Start `clocktui` subprocesses (`start(*args, **env)`); each is killed after the test."""
    started: list[ClocktuiProcess] = []

    def start(*args: str, **env: str) -> ClocktuiProcess:
        started.append(ClocktuiProcess(args, env))
        return started[-1]

    yield start
    for process in started:
        process.stop()
