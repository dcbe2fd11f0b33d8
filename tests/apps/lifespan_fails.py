"""An app whose lifespan raises as it starts: serving fails, the CLI exits 1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aioclock_core import AioClock, Once


@asynccontextmanager
async def lifespan(_: AioClock) -> AsyncIterator[None]:
    raise RuntimeError("cannot reach the database")
    yield


app = AioClock(name="broken", lifespan=lifespan)


@app.task(trigger=Once())
async def never() -> None:
    return None
