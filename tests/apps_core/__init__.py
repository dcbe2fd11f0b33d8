"""A tiny app imported by identity tests in separate processes."""

from __future__ import annotations

from aioclock_core import AioClock, Every

app = AioClock()


@app.task(trigger=Every(minutes=5))
async def sync_orders() -> None:
    """Stand-in task."""
