"""N synthetic tasks, for measuring the console at scale: `clocktui tests.apps.many:make --factory`
builds 5,000; `make(n)` builds any number."""

from __future__ import annotations

from aioclock_core import AioClock, Every

DEFAULT_COUNT = 5000


def make(n: int = DEFAULT_COUNT) -> AioClock:
    """An app of `n` tasks that fire every 1..60 s and do nothing."""
    app = AioClock(name=f"many-{n}")
    for index in range(n):

        async def noop() -> None:
            return None

        app.task(trigger=Every(seconds=1 + index % 60), name=f"task-{index:05}")(noop)
    return app
