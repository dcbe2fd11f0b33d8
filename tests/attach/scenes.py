"""Scenes of the attached console for snapshot tests: the console fixture app serves in a
thread with its control socket, on a FakeClock the attached console reads too, so nothing
depends on wall time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timezone
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable

from aioclock_core.testing import FakeClock
from clocktui.app import ClockConsole
from clocktui.attach import attach_console
from clocktui.control_server import ControlServer
from clocktui.host import Host
from clocktui.screens.detail import DetailScreen
from clocktui.sources.socket_client import SocketSource
from clocktui.widgets.task_table import TaskTable
from tests.apps import console_app
from tests.console.conftest import REDRAW_INTERVAL, select, until

__all__ = ["AttachedScene", "ATTACHED_SCENES", "served_fixture_app"]


@contextmanager
def served_fixture_app(folder: Path) -> Iterator[tuple[FakeClock, Path]]:
    """The console fixture app served in a thread with a control socket, 35 s into its
    fake day; yields its clock and the socket's path."""
    app = console_app.make(fail=False)
    clock = app.clock
    assert isinstance(clock, FakeClock)
    path = folder / "fixture.sock"
    host = Host(app, control=ControlServer(path))
    host.start()
    try:
        asyncio.run_coroutine_threadsafe(_started_then(app, clock, 35), host.loop).result(20)
        yield clock, path
    finally:
        host.stop(grace=0, timeout=10)


async def _started_then(app: console_app.ConsoleFixture, clock: FakeClock, seconds: float) -> None:
    await app.wait_started()
    await clock.advance(seconds)


@dataclass(frozen=True)
class AttachedScene:
    """A named state of the attached console."""

    name: str
    read_only: bool
    prepare: Callable[[Pilot[object]], Awaitable[None]]

    def build(self, clock: FakeClock, path: Path) -> ClockConsole:
        console = attach_console(
            SocketSource(path, read_only=self.read_only, clock=clock),
            read_only=self.read_only,
            display_tz=timezone.utc,
            redraw_interval=REDRAW_INTERVAL,
        )
        console.theme = "textual-dark"
        return console


def _console(pilot: Pilot[object]) -> ClockConsole:
    console = pilot.app
    assert isinstance(console, ClockConsole)
    return console


async def _attached(pilot: Pilot[object]) -> None:
    console = _console(pilot)

    def shown() -> bool:
        rows = console.screen.query_one(TaskTable).order
        views = console.model.tasks.values()
        loaded = all(view.recent_changes for view in views if view.run_count)
        return bool(rows) and len(rows) == len(views) and loaded

    await until(shown, pilot, "the attached app's tasks and history appeared")
    console.clear_notifications()  # "attached to … at <a temporary path>"
    select(console, "heartbeat")
    await pilot.pause()


async def _detail(pilot: Pilot[object]) -> None:
    await _attached(pilot)
    await pilot.press("enter")
    screen = _console(pilot).screen
    assert isinstance(screen, DetailScreen)
    await until(lambda: "Sat" in str(screen.query_one("#upcoming").render()), pilot, "upcoming")
    runs = screen.query_one("#runs", DataTable)
    await until(lambda: runs.row_count == screen.view.run_count, pilot, "its recent runs")
    await pilot.pause()


ATTACHED_SCENES = {
    scene.name: scene
    for scene in (
        AttachedScene("attached", False, _attached),
        AttachedScene("attached-detail", False, _detail),
        AttachedScene("attached-read-only", True, _attached),
    )
}
