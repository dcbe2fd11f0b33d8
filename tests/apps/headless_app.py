"""An app for the headless CLI test: logs once at start, then ticks every hour."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aioclock_core import AioClock, Every, Once

logger = logging.getLogger("headless")


@asynccontextmanager
async def lifespan(_: AioClock) -> AsyncIterator[None]:
    yield
    logger.info("lifespan exited")


app = AioClock(name="headless", lifespan=lifespan)


@app.task(trigger=Once(), name="hello")
async def hello() -> None:
    logger.info("hello from a task")


@app.task(trigger=Every(hours=1), name="hourly")
async def hourly() -> None:
    return None
