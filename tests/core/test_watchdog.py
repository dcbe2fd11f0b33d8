"""Loop-blocking watch: a task that blocks the loop is named in an event and a warning."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from aioclock_core import AioClock, Once
from aioclock_core.events import LoopBlocked


async def test_a_task_blocking_the_loop_is_named(caplog: pytest.LogCaptureFixture) -> None:
    app = AioClock(loop_block_threshold=0.05)
    blocked: list[LoopBlocked] = []
    app.subscribe(lambda batch: blocked.extend(e for e in batch if isinstance(e, LoopBlocked)))

    @app.task(trigger=Once(), name="cpu-hog")
    async def hog() -> None:
        await asyncio.sleep(0.06)  # let the watchdog settle into its rhythm
        time.sleep(0.3)  # blocking call inside async def: the bug we want to catch
        await asyncio.sleep(0.1)

    with caplog.at_level(logging.WARNING, logger="aioclock"):
        await asyncio.wait_for(app.serve(), 5)
    app.flush_events()

    assert blocked, "no LoopBlocked event"
    event = blocked[0]
    assert event.task_name == "cpu-hog"
    assert 0.2 < event.blocked_for < 1.0
    assert any("make the task a plain `def`" in r.getMessage() for r in caplog.records)


async def test_the_watch_can_be_switched_off() -> None:
    app = AioClock(loop_block_threshold=None)
    blocked: list[LoopBlocked] = []
    app.subscribe(lambda batch: blocked.extend(e for e in batch if isinstance(e, LoopBlocked)))

    @app.task(trigger=Once())
    async def hog() -> None:
        time.sleep(0.2)

    await asyncio.wait_for(app.serve(), 5)
    app.flush_events()
    assert blocked == []
