"""Time bounds shared by the async tests: a hung test fails instead of hanging the run."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable

TIMEOUT = 10.0


def time_limit(
    seconds: float = TIMEOUT,
) -> Callable[[Callable[..., Awaitable[None]]], Callable[..., Awaitable[None]]]:
    """Bound an async test: it fails after `seconds` instead of hanging the run."""

    def decorate(test: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        @functools.wraps(test)
        async def bounded(*args: object, **kwargs: object) -> None:
            await asyncio.wait_for(test(*args, **kwargs), seconds)

        return bounded

    return decorate
