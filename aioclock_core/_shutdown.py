"""Shutdown requests of one serve(): the first stops gracefully, a second hurries the stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Any

from aioclock_core._clock import Clock

logger = logging.getLogger("aioclock")

HURRIED_STEP = 5.0
"""Seconds (of the app's clock) the OnShutDown tasks and the lifespan exit each get once a
second request has hurried the shutdown; then they are cancelled."""


class ShutdownRequests:
    """What has been asked of one serve(): `graceful` holds the grace period of the first
    request, `hurried` is done once a second request came."""

    def __init__(self, loop: asyncio.AbstractEventLoop, clock: Clock, grace: float) -> None:
        self.graceful: asyncio.Future[float] = loop.create_future()
        self.hurried: asyncio.Future[None] = loop.create_future()
        self._clock = clock
        self._default_grace = grace

    def request(self, grace: float | None) -> None:
        """The first call asks for a graceful stop with `grace` (default: the app's); the
        second hurries it: running runs are cancelled now, the rest is bounded."""
        if not self.graceful.done():
            self.graceful.set_result(self._default_grace if grace is None else float(grace))
        elif not self.hurried.done():
            self.hurried.set_result(None)
            logger.warning(
                "Second shutdown request: cancelling running runs now; the OnShutDown tasks "
                "and the lifespan exit still run, %g s each at most",
                HURRIED_STEP,
            )

    @contextlib.asynccontextmanager
    async def bounded(self, what: str | None, step: float = HURRIED_STEP) -> AsyncIterator[None]:
        """Run the block in the current task; once the shutdown is hurried (before or
        during the block), give it `step` more seconds, then cancel it and go on (with a
        warning naming `what`). The same task, so a lifespan may exit the task groups and
        cancel scopes it entered."""
        task = asyncio.current_task()
        assert task is not None
        timer = None
        inside = True  # callbacks already scheduled may run after the block
        expired = False

        def expire() -> None:
            nonlocal expired
            if inside:
                expired = True
                task.cancel()

        def start(_: object) -> None:
            nonlocal timer
            if inside:
                timer = self._clock.call_at(self._clock.now() + timedelta(seconds=step), expire)

        self.hurried.add_done_callback(start)
        try:
            yield
        except asyncio.CancelledError:
            if not expired:
                raise
            uncancel = getattr(task, "uncancel", None)  # Python 3.11+: keep the count right
            if uncancel is not None:
                uncancel()
            if what is not None:
                logger.warning(
                    "Shutdown: %s still going %g s after the second request; cancelled",
                    what,
                    step,
                )
        finally:
            inside = False
            self.hurried.remove_done_callback(start)
            if timer is not None:
                timer.cancel()

    @contextlib.asynccontextmanager
    async def entered(
        self, context: AbstractAsyncContextManager[Any], what: str
    ) -> AsyncIterator[None]:
        """`async with context`, spelled out so that its exit is `bounded`."""
        await context.__aenter__()
        suppressed = False
        try:
            yield
        except GeneratorExit:
            raise
        except BaseException as error:
            async with self.bounded(what):
                suppressed = bool(await context.__aexit__(type(error), error, error.__traceback__))
            if not suppressed:
                raise
        else:
            async with self.bounded(what):
                await context.__aexit__(None, None, None)
