"""A fixture app for the history CLI: two one-shot tasks (one fails), so serving ends alone."""

from __future__ import annotations

import logging

from aioclock_core import AioClock, Once

app = AioClock(name="history-fixture")
logger = logging.getLogger("history-fixture")


@app.task(trigger=Once(), name="greet")
async def greet() -> str:
    logger.info("greeting 3 people")
    return "greeted 3"


@app.task(trigger=Once(), name="explode")
async def explode() -> None:
    raise ValueError("boom: row 7 is bad")
