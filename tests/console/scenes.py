"""The console's scenes for snapshot tests and screenshots: frozen clock, fixed size.

Each scene builds a console on the fixture app (FakeClock at a fixed instant, UTC
display, pinned theme) and drives it to a state; nothing depends on wall time or chance.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from textual.pilot import Pilot

from clocktui.app import ClockConsole
from clocktui.screens.detail import DetailScreen
from tests.apps import timeline_app
from tests.console.conftest import (
    SIZE,
    advance,
    build_console,
    open_timeline,
    select,
    started,
    until,
)

__all__ = ["Scene", "SCENES", "SIZE"]


@dataclass(frozen=True)
class Scene:
    """A named state of the console."""

    name: str
    build: Callable[[], ClockConsole]
    prepare: Callable[[Pilot[object]], Awaitable[None]]


def _console(pilot: Pilot[object]) -> ClockConsole:
    console = pilot.app
    assert isinstance(console, ClockConsole)
    return console


async def _ran_35_seconds(pilot: Pilot[object]) -> None:
    await started(pilot)
    await advance(pilot, 35)
    select(_console(pilot), "heartbeat")
    await pilot.pause()


async def _failure(pilot: Pilot[object]) -> None:
    await _ran_35_seconds(pilot)
    select(_console(pilot), "flaky upload")
    await pilot.pause()


async def _open_details(pilot: Pilot[object], name: str) -> None:
    select(_console(pilot), name)
    await pilot.press("enter")
    screen = _console(pilot).screen
    assert isinstance(screen, DetailScreen)
    await until(lambda: "Sat" in str(screen.query_one("#upcoming").render()), pilot, "upcoming")
    await pilot.pause()


async def _detail(pilot: Pilot[object]) -> None:
    await _ran_35_seconds(pilot)
    await _open_details(pilot, "heartbeat")


async def _detail_failure(pilot: Pilot[object]) -> None:
    await _ran_35_seconds(pilot)
    await advance(pilot, 30)
    await _open_details(pilot, "flaky upload")


async def _help(pilot: Pilot[object]) -> None:
    await _ran_35_seconds(pilot)
    await pilot.press("question_mark")


async def _filter(pilot: Pilot[object]) -> None:
    await _ran_35_seconds(pilot)
    await pilot.press("slash", *"rep")


async def _paused(pilot: Pilot[object]) -> None:
    await started(pilot)
    console = _console(pilot)
    await until(lambda: console.model.counts()[1] == len(console.model.tasks), pilot, "all paused")
    await advance(pilot, 35)


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
        Scene("main", lambda: build_console(fail=False), _ran_35_seconds),
        Scene("failure", build_console, _failure),
        Scene("detail", lambda: build_console(fail=False), _detail),
        Scene("help", lambda: build_console(fail=False), _help),
        Scene("filter", lambda: build_console(fail=False), _filter),
        Scene("paused", lambda: build_console(fail=False, paused=True), _paused),
        Scene("timeline", _timeline_console, _timeline),
        Scene("timeline-day", _timeline_console, _timeline_day),
    )
}
"""Scenes with a snapshot test; stable across machines and Python versions."""

EXTRA_SCENES = {
    "detail-failure": Scene("detail-failure", build_console, _detail_failure),
}
"""Scenes only for screenshots: a traceback's paths and line numbers vary by checkout."""
