"""A fixture app that configures its own store (the console must keep it)."""

from __future__ import annotations

import os

from aioclock_core import AioClock, Once
from aioclock_core.stores import SQLiteStore

app = AioClock(
    name="own-store", store=SQLiteStore(os.environ.get("HISTORY_DB", "own-store.sqlite3"))
)


@app.task(trigger=Once(), name="only")
async def only() -> None:
    return None
