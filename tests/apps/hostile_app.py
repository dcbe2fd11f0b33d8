"""A fixture app whose task name, log message and error carry terminal escape sequences."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from aioclock_core import AioClock, Every, Once
from aioclock_core.testing import FakeClock

CLEAR_SCREEN = "\x1b[2J"
SET_TITLE = "\x1b]0;pwned\x07"
RED = "\x1b[31m"
NAME = f"wipe{CLEAR_SCREEN}out"
"""The hostile task's name."""

logger = logging.getLogger("hostile")


def make() -> AioClock:
    """A fresh app on a FakeClock: the hostile task fires at start, `idle` keeps it serving."""
    app = AioClock(
        name="hostile",
        clock=FakeClock(start=datetime(2026, 3, 28, 12, tzinfo=timezone.utc)),
        loop_block_threshold=None,
    )

    @app.task(trigger=Once(), name=NAME)
    async def wipe() -> None:
        logger.warning("retitled %s", SET_TITLE)
        raise ValueError(f"{RED}red alert")

    @app.task(trigger=Every(hours=1), name="idle")
    async def idle() -> None:
        return None

    return app


app = make()
