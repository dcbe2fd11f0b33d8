"""The console's scenes for snapshot tests and screenshots: frozen clock, fixed size.

Each scene builds a console on the demo app the README tells people to run (on a
FakeClock at a fixed instant, with a fixed seed, UTC display, pinned theme) or on the
timeline fixture, and drives it to a state; nothing depends on wall time or chance.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from textual.pilot import Pilot

from aioclock_core.testing import FakeClock
from clocktui import demo
from clocktui.app import ClockConsole
from clocktui.logbook import LogEntry
from clocktui.widgets.log_pane import LogPane
from tests.apps import timeline_app
from tests.console.conftest import (
    SIZE,
    advance,
    build_console,
    open_details,
    open_timeline,
    select,
    settle,
    started,
    until,
)

__all__ = ["Scene", "SCENES", "EXTRA_SCENES", "SIZE", "SMALL"]

SMALL = (80, 24)
"""The smallest terminal the console is made for."""
DEMO_START = datetime(2026, 3, 28, 11, 59, 50, tzinfo=timezone.utc)
"""A Saturday, ten seconds before noon UTC."""
DEMO_SEED = 7


@dataclass(frozen=True)
class Scene:
    """A named state of the console, at a terminal size."""

    name: str
    build: Callable[[], ClockConsole]
    drive: Callable[[Pilot[object]], Awaitable[None]]
    size: tuple[int, int] = SIZE

    async def prepare(self, pilot: Pilot[object]) -> None:
        """Drive the console to the scene, without toasts: they come and go on real time
        (the failure toasts have Pilot tests of their own)."""
        console = _console(pilot)
        console.failure_toasts.quiet = True
        await self.drive(pilot)
        console.clear_notifications()
        await pilot.pause()


def demo_console(*, paused: bool = False) -> ClockConsole:
    """The console of the demo app on a fake clock with a fixed seed."""
    app = demo.make(clock=FakeClock(start=DEMO_START), seed=DEMO_SEED, watch_loop=False)
    return build_console(target=app, paused=paused)


def nocolor_console() -> ClockConsole:
    """The demo's console as NO_COLOR=1 makes it (Textual reads it when the app is built)."""
    os.environ["NO_COLOR"] = "1"
    try:
        return demo_console()
    finally:
        os.environ.pop("NO_COLOR", None)


def _console(pilot: Pilot[object]) -> ClockConsole:
    console = pilot.app
    assert isinstance(console, ClockConsole)
    return console


async def _ran_40_seconds(pilot: Pilot[object]) -> None:
    await started(pilot)
    await advance(pilot, 40)
    select(_console(pilot), "heartbeat")
    await pilot.pause()


async def _failure(pilot: Pilot[object]) -> None:
    await _ran_40_seconds(pilot)
    select(_console(pilot), "slow export")
    await pilot.pause()


async def _open_details(pilot: Pilot[object], name: str) -> None:
    screen = await open_details(pilot, name, runs=1)
    if screen.query_one("#upcoming").display:
        await until(lambda: "Sat" in str(screen.query_one("#upcoming").render()), pilot, "next")
    await pilot.pause()


async def _detail(pilot: Pilot[object]) -> None:
    await _ran_40_seconds(pilot)
    await _open_details(pilot, "count stock")


async def _detail_failure(pilot: Pilot[object]) -> None:
    await _ran_40_seconds(pilot)
    await _open_details(pilot, "slow export")


async def _help(pilot: Pilot[object]) -> None:
    await _ran_40_seconds(pilot)
    await pilot.press("question_mark")


async def _filter(pilot: Pilot[object]) -> None:
    await _ran_40_seconds(pilot)
    await pilot.press("slash", *"is:failing", "enter")


async def _paused(pilot: Pilot[object]) -> None:
    await started(pilot)
    console = _console(pilot)
    await until(lambda: console.model.counts()[1] == len(console.model.tasks), pilot, "paused")
    await advance(pilot, 40)


async def _logs_paused(pilot: Pilot[object]) -> None:
    """The log pane scrolled back: it says it no longer follows, and new lines wait."""
    await _ran_40_seconds(pilot)
    console = _console(pilot)
    pane = console.screen.query_one(LogPane)
    lines = [
        LogEntry(
            at=DEMO_START + timedelta(seconds=40),
            level=logging.INFO,
            logger="import",
            message=f"imported row {index} of 300",
            task_id=None,
            task_name=None,
        )
        for index in range(1, 301)
    ]
    for line in lines[:200]:
        console.logbook.add(line)
    pane.append(lines[:200])
    await pilot.pause()
    pane.focus()
    await pilot.press("pageup", "pageup")
    for line in lines[200:]:
        console.logbook.add(line)
    pane.append(lines[200:])
    await settle(pilot)


async def _timeline(pilot: Pilot[object]) -> None:
    await started(pilot)
    await advance(pilot, 15 * 60)  # the shards fired together; slow sync's runs took 5 min
    select(_console(pilot), "slow sync")
    await open_timeline(pilot)


async def _timeline_day(pilot: Pilot[object]) -> None:
    await _timeline(pilot)
    await pilot.press("plus")
    await open_timeline(pilot, timedelta(days=1))


def _timeline_console() -> ClockConsole:
    return build_console(target=timeline_app.make())


SCENES = {
    scene.name: scene
    for scene in (
        Scene("main", demo_console, _ran_40_seconds),
        Scene("main-80x24", demo_console, _ran_40_seconds, SMALL),
        Scene("failure", demo_console, _failure),
        Scene("nocolor", nocolor_console, _ran_40_seconds),
        Scene("detail", demo_console, _detail),
        Scene("detail-80x24", demo_console, _detail, SMALL),
        Scene("help", demo_console, _help),
        Scene("filter", demo_console, _filter),
        Scene("paused", lambda: demo_console(paused=True), _paused),
        Scene("logs-paused", demo_console, _logs_paused),
        Scene("timeline", _timeline_console, _timeline),
        Scene("timeline-day", _timeline_console, _timeline_day),
    )
}
"""Scenes with a snapshot test; stable across machines and Python versions."""

EXTRA_SCENES = {
    "detail-failure": Scene("detail-failure", demo_console, _detail_failure),
}
"""Scenes only for screenshots: a traceback's paths and line numbers vary by checkout."""
