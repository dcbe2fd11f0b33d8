"""A task that floods the log: the console keeps answering keys, in bounded memory."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import timezone

from textual.screen import Screen

from aioclock_core import AioClock, Once
from clocktui.app import ClockConsole, make_app
from clocktui.log_intake import PENDING
from clocktui.logbook import SCROLLBACK
from clocktui.screens.help import HelpScreen
from clocktui.screens.main import MainScreen
from clocktui.widgets.log_pane import LogPane
from tests.console.conftest import SIZE, time_limit, until

FLOOD_RATE = 5000
"""Lines a second the flooding task logs."""


def flooding_app(stop: threading.Event) -> AioClock:
    """One task (in a worker thread) that logs FLOOD_RATE lines a second until `stop`."""
    app = AioClock(name="flood", loop_block_threshold=None)
    log = logging.getLogger("flood")

    @app.task(trigger=Once(), name="flood")
    def flood() -> None:
        sent = 0
        began = time.monotonic()
        while not stop.is_set():
            due = int((time.monotonic() - began) * FLOOD_RATE)
            for index in range(sent, due):
                log.info("line %d of the flood", index)
            sent = max(sent, due)
            time.sleep(0.002)

    return app


async def key_to_frame(console: ClockConsole, key: str, screen: type[Screen[None]]) -> float:
    """Seconds from a key press (as the terminal driver posts it) until the screen it
    opens has been drawn. (Pilot's `press` waits for every widget to go idle, which a
    flood of log lines keeps from happening: it measures something else.)"""
    pressed = time.monotonic()
    console.simulate_key(key)
    while not isinstance(console.screen, screen):
        assert time.monotonic() - pressed < 10, f"{key} never opened {screen.__name__}"
        await asyncio.sleep(0.005)
    drawn = asyncio.get_running_loop().create_future()
    console.screen.call_after_refresh(lambda: drawn.done() or drawn.set_result(None))
    await asyncio.wait_for(drawn, 10)
    return time.monotonic() - pressed


@time_limit(60)
async def test_the_ui_answers_a_key_within_a_second_while_a_task_floods_the_log() -> None:
    stop = threading.Event()
    console = make_app(flooding_app(stop), display_tz=timezone.utc)
    try:
        async with console.run_test(size=SIZE) as pilot:
            intake = console.inbox.logs
            await until(lambda: intake.dropped > FLOOD_RATE, pilot, "the flood is being dropped")
            assert await key_to_frame(console, "question_mark", HelpScreen) < 1.0
            assert await key_to_frame(console, "escape", MainScreen) < 1.0
            # Bounded by construction: whatever the rate, however long.
            assert intake.waiting <= PENDING
            assert len(console.logbook.entries) <= SCROLLBACK
            assert len(console.screen.query_one(LogPane).rows) <= SCROLLBACK
            await until(
                lambda: any("log lines dropped" in e.message for e in console.logbook.entries),
                pilot,
                "a line says how many were dropped",
            )
    finally:
        stop.set()
