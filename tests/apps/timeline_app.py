"""A fixture app for the timeline screen, on a FakeClock the day before Berlin's spring forward.

Twelve shards fire together every quarter hour (a herd), a slow sync runs longer than its
period (its runs would overlap), a Berlin task sits in the skipped hour, and one task's
trigger cannot be simulated.
"""

from __future__ import annotations

from datetime import datetime, timezone

from aioclock_core import AioClock, At, Cron, Every
from aioclock_core.testing import FakeClock
from tests.apps.simulate_app import WaitsOnItsOwn

START = datetime(2026, 3, 28, 11, 59, 55, tzinfo=timezone.utc)
"""A Saturday, five seconds before noon UTC; Berlin springs forward 13 hours later."""
SHARDS = 12


def make() -> AioClock:
    """A fresh app on a FakeClock at START (no loop-blocking watch: it reads real time)."""
    clock = FakeClock(start=START)
    app = AioClock(name="timeline", clock=clock, loop_block_threshold=None)

    async def quick() -> None:
        return None

    async def slow() -> None:
        await clock.sleep(300)

    for index in range(1, SHARDS + 1):
        app.task(trigger=Every(minutes=15), name=f"shard {index:02}")(quick)
    app.task(trigger=Every(minutes=2), name="slow sync")(slow)
    app.task(trigger=Cron(cron="30 2 * * *", tz="Europe/Berlin"), name="berlin nightly")(quick)
    app.task(trigger=At(hour=13, tz="Europe/Berlin"), name="berlin lunch")(quick)
    app.task(trigger=WaitsOnItsOwn(max_loop_count=1), name="legacy poll")(quick)
    return app
