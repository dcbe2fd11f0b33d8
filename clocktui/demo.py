"""A demo app that shows every console feature within a minute: `clocktui clocktui.demo:app`."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aioclock_core import AioClock, At, Cron, Depends, Every, Group, Once

__all__ = ["app"]

logger = logging.getLogger("demo")


@asynccontextmanager
async def lifespan(_: AioClock) -> AsyncIterator[None]:
    logger.info("Lifespan: connecting to the (pretend) database")
    yield
    logger.info("Lifespan: closing the (pretend) database")


app = AioClock(name="demo", lifespan=lifespan, shutdown_grace=3.0)

reports = Group(name="reports", timeout=30)


class Inventory:
    """A stand-in for a service the tasks get through dependency injection."""

    def count(self) -> int:
        return random.randint(90, 110)


def get_inventory() -> Inventory:
    return Inventory()


@app.task(trigger=Every(seconds=3), name="heartbeat")
async def heartbeat() -> None:
    logger.info("still alive")


@app.task(trigger=Every(seconds=5, first_run_strategy="immediate"), name="count stock")
async def count_stock(inventory: Inventory = Depends(get_inventory)) -> None:
    logger.info("%d items in stock", inventory.count())


@app.task(trigger=Every(seconds=7), name="flaky upload")
async def flaky_upload() -> None:
    await asyncio.sleep(random.uniform(0.1, 0.8))
    if random.random() < 0.5:
        raise ConnectionError("upload server reset the connection")
    logger.info("uploaded 3 files")


@app.task(trigger=Every(seconds=12), name="slow export", timeout=2)
async def slow_export() -> None:
    logger.info("exporting, this takes a while…")
    await asyncio.sleep(5)


@app.task(trigger=Every(seconds=9), name="sync checksum")
def sync_checksum() -> None:
    time.sleep(0.3)  # a blocking call: sync tasks run in a worker thread
    logger.info("checksums match")


@app.task(trigger=Every(seconds=15), name="stuck sync", timeout=2)
def stuck_sync() -> None:
    # Times out after 2 s, but a thread cannot be stopped: it runs on for 4 s more,
    # holding the task's slot (the console shows it overrun, the header counts it).
    time.sleep(6)


@app.task(trigger=Every(seconds=10), name="crunch numbers", executor="process")
def crunch_numbers() -> int:
    # CPU-heavy work in a worker process: it cannot delay any other task's firing.
    total = sum(i * i for i in range(3_000_000))
    logger.info("crunched: %d", total)
    return total


@app.task(trigger=Once(), name="warm cache")
async def warm_cache() -> None:
    await asyncio.sleep(1)
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


app.include_group(reports)
