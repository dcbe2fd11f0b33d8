"""A fixture app for console tests: one task of each kind, on a frozen FakeClock."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timezone

from aioclock_core import AioClock, At, Cron, Every, Group, Once
from aioclock_core.testing import FakeClock

START = datetime(2026, 3, 28, 11, 59, 55, tzinfo=timezone.utc)
"""A Saturday, five seconds before noon UTC."""

logger = logging.getLogger("fixture")


class ConsoleFixture(AioClock):
    """An AioClock that remembers what its lifespan did."""

    lifespan_steps: list[str]


def make(*, fail: bool = True) -> ConsoleFixture:
    """A fresh app on a FakeClock at START; `fail` adds a task that always raises."""
    steps: list[str] = []

    @asynccontextmanager
    async def lifespan(_: AioClock) -> AsyncIterator[None]:
        steps.append("enter")
        yield
        steps.append("exit")

    # No loop-blocking watch: it measures real time, which a loaded machine would let into
    # the snapshots as a warning in the log pane.
    app = ConsoleFixture(
        name="fixture", clock=FakeClock(start=START), lifespan=lifespan, loop_block_threshold=None
    )
    app.lifespan_steps = steps
    reports = Group(name="reports")

    @app.task(trigger=Every(seconds=10), name="heartbeat")
    async def heartbeat() -> None:
        logger.info("beat")

    @app.task(trigger=Every(minutes=5), name="sync inventory", timeout=60)
    def sync_inventory() -> None:
        logger.info("synced")

    @app.task(trigger=Once(), name="warm cache")
    async def warm_cache() -> None:
        logger.info("cache [bold]warm[/]")  # markup in user text must stay literal

    if fail:

        @app.task(trigger=Every(seconds=30), name="flaky upload")
        async def flaky_upload() -> None:
            raise ConnectionError("upload server reset the connection")

    @reports.task(trigger=Cron(cron="0 12 * * *", tz="Asia/Kolkata"), name="noon report")
    async def noon_report() -> None:
        logger.info("report written")

    @reports.task(trigger=At(hour=14, at="every sunday", tz="UTC"), name="weekly digest")
    async def weekly_digest() -> None:
        logger.info("digest sent")

    app.include_group(reports)
    return app
