"""An app for the attach tests, served headless in a subprocess: a task that ticks, one
that only runs by hand, and one that logs and then fails."""

from __future__ import annotations

import logging
import os

from aioclock_core import AioClock, Every

logger = logging.getLogger("attached")

app = AioClock(name="attached", shutdown_grace=1.0)


@app.task(trigger=Every(seconds=0.5, first_run_strategy="immediate"), name="ticker")
async def ticker() -> None:
    logger.info("tick")


@app.task(trigger=Every(hours=1), name="by hand")
async def by_hand() -> None:
    logger.info("ran by hand in process %d", os.getpid())


@app.task(trigger=Every(hours=1), name="breaks")
async def breaks() -> None:
    logger.info("about to break")
    raise RuntimeError("broken on purpose")
