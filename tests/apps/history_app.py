"""A fixture app for the history CLI: two one-shot tasks (one fails), so serving ends alone."""

from __future__ import annotations

from aioclock_core import AioClock, Once

app = AioClock(name="history-fixture")


@app.task(trigger=Once(), name="greet")
async def greet() -> None:
    return None


@app.task(trigger=Once(), name="explode")
async def explode() -> None:
    raise ValueError("boom: row 7 is bad")
