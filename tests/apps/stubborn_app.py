"""A fixture app that is slow to stop: a run that only ends when cancelled, an OnShutDown
task, and a lifespan whose exit can be made to hang (STUBBORN_EXIT_HANGS=1)."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aioclock_core import AioClock, Once, OnShutDown
from aioclock_core.testing import FakeClock

logger = logging.getLogger("stubborn")


class StubbornApp(AioClock):
    """An AioClock that remembers the steps its tasks and lifespan took."""

    steps: list[str]


def make(*, clock: FakeClock | None = None, exit_hangs: bool = False) -> StubbornApp:
    """A fresh app (on the system clock unless `clock`); 60 s of shutdown grace."""
    steps: list[str] = []

    def note(step: str) -> None:
        steps.append(step)
        logger.info(step)

    @asynccontextmanager
    async def lifespan(app: AioClock) -> AsyncIterator[None]:
        yield
        note("lifespan exit started")
        if exit_hangs:
            await app.clock.sleep(3600)
        note("lifespan exit finished")

    app = StubbornApp(
        name="stubborn",
        clock=clock,
        lifespan=lifespan,
        shutdown_grace=60,
        loop_block_threshold=None,
    )
    app.steps = steps

    @app.task(trigger=Once(), name="long")
    async def long() -> None:
        note("long run started")
        await app.clock.sleep(3600)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        on_shutdown = OnShutDown()

    @app.task(trigger=on_shutdown, name="on stop")
    async def on_stop() -> None:
        note("shutdown task ran")

    return app


app = make(exit_hangs=os.environ.get("STUBBORN_EXIT_HANGS") == "1")
