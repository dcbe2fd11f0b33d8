"""A fixture app for the kill test: records to the SQLite file named by $HISTORY_DB, and
its one task sleeps long enough to be killed mid-run. Run it with `python -m`."""

from __future__ import annotations

import asyncio
import os

from aioclock_core import AioClock, Once
from aioclock_core.stores import SQLiteStore

app = AioClock(name="sleeper", store=SQLiteStore(os.environ.get("HISTORY_DB", "sleeper.sqlite3")))


@app.task(trigger=Once(), name="long nap")
async def long_nap() -> None:
    await asyncio.sleep(120)


if __name__ == "__main__":
    asyncio.run(app.serve())
