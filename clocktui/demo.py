"""A demo app that shows every console feature within a minute: `clocktui clocktui.demo:app`.

`make()` builds it; the README's screenshots and the snapshot tests build it on a fake
clock with a fixed seed (`make(clock=FakeClock(...), seed=7)`), so they show what a user
who runs the demo sees, frame for frame.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aioclock_core import AioClock, At, Cron, Depends, Every, Group, Once
from aioclock_core.testing import FakeClock

__all__ = ["app", "make"]

logger = logging.getLogger("demo")


@asynccontextmanager
async def lifespan(_: AioClock) -> AsyncIterator[None]:
    logger.info("Lifespan: connecting to the (pretend) database")
    yield
    logger.info("Lifespan: closing the (pretend) database")


class Inventory:
    """A stand-in for a service the tasks get through dependency injection."""

    def __init__(self, chance: random.Random) -> None:
        self.chance = chance

    def count(self) -> int:
        return self.chance.randint(90, 110)


def crunch_numbers() -> int:
    """CPU-heavy work in a worker process: it cannot delay any other task's firing."""
    total = sum(i * i for i in range(3_000_000))
    logger.info("crunched: %d", total)
    return total


def make(
    *, clock: FakeClock | None = None, seed: int | None = None, watch_loop: bool = True
) -> AioClock:
    """The demo app.

    Args:
        clock: A fake clock for screenshots and tests (default: the real clock); the
            tasks wait on it too.
        seed: Seed of the chance that the flaky task fails (default: unseeded).
        watch_loop: Warn about tasks that block the event loop (the default).
    """
    chance = random.Random(seed)
    demo = AioClock(
        name="demo",
        lifespan=lifespan,
        shutdown_grace=3.0,
        clock=clock,
        loop_block_threshold=0.1 if watch_loop else None,
    )
    reports = Group(name="reports", timeout=30)

    async def get_inventory() -> Inventory:
        return Inventory(chance)

    @demo.task(trigger=Every(seconds=3), name="heartbeat")
    async def heartbeat() -> None:
        logger.info("still alive")

    @demo.task(trigger=Every(seconds=5, first_run_strategy="immediate"), name="count stock")
    async def count_stock(inventory: Inventory = Depends(get_inventory)) -> dict[str, int]:
        await demo.clock.sleep(chance.uniform(0.01, 0.2))  # counting takes a moment
        items = inventory.count()
        logger.info("%d items in stock", items)
        return {"items": items}

    @demo.task(trigger=Every(seconds=7), name="flaky upload")
    async def flaky_upload() -> None:
        await demo.clock.sleep(chance.uniform(0.1, 0.8))
        if chance.random() < 0.5:
            raise ConnectionError("upload server reset the connection")
        logger.info("uploaded 3 files")

    @demo.task(trigger=Every(seconds=12), name="slow export", timeout=2)
    async def slow_export() -> None:
        logger.info("exporting, this takes a while…")
        await demo.clock.sleep(5)

    @demo.task(trigger=Every(seconds=9), name="sync checksum")
    def sync_checksum() -> None:
        time.sleep(0.3)  # a blocking call: sync tasks run in a worker thread
        print("checksums match")  # print() goes to the log pane too

    @demo.task(trigger=Every(seconds=15), name="stuck sync", timeout=2)
    def stuck_sync() -> None:
        # Times out after 2 s, but a thread cannot be stopped: it runs on for 4 s more,
        # holding the task's slot (the console shows it overrun, the header counts it).
        # On a fake clock (screenshots, tests) it overruns by a moment only.
        time.sleep(6 if clock is None else 0.05)

    demo.task(trigger=Every(seconds=10), name="crunch numbers", executor="process")(crunch_numbers)

    @demo.task(trigger=Once(), name="warm cache")
    async def warm_cache() -> None:
        await demo.clock.sleep(1)
        logger.info("cache warmed")

    @reports.task(trigger=Cron(cron="* * * * *", tz="UTC"), name="minute report")
    async def minute_report() -> None:
        logger.info("wrote the per-minute report")

    @reports.task(trigger=Cron(cron="0 12 * * *", tz="Asia/Kolkata"), name="noon report")
    async def noon_report() -> None:
        logger.info("wrote the noon report")

    @reports.task(trigger=At(hour=14, at="every sunday", tz="UTC"), name="weekly digest")
    async def weekly_digest() -> None:
        logger.info("sent the weekly digest")

    demo.include_group(reports)
    return demo


app = make()
