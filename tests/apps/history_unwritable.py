"""A fixture app whose history file cannot be written once it is open (as a file that turned
read-only or a full disk would): two one-shot tasks, so serving ends alone."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from aioclock_core import AioClock, Once
from aioclock_core.stores import SQLiteStore


class UnwritableStore(SQLiteStore):
    """Opens normally, then its writer gets a read-only connection to the same file."""

    async def open(self, app_name: str) -> None:
        await super().open(app_name)
        writer = self._writer
        assert writer is not None
        writer.connection = sqlite3.connect(
            f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )


folder = Path(os.environ.get("UNWRITABLE_DIR") or tempfile.mkdtemp())
app = AioClock(name="unwritable", store=UnwritableStore(folder / "history.sqlite3"))


@app.task(trigger=Once(), name="first")
async def first() -> None:
    return None


@app.task(trigger=Once(), name="second")
async def second() -> None:
    return None
