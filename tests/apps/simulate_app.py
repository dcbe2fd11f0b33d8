"""A fixture app for `clocktui simulate`: its bodies and its lifespan raise if they ever run.

Tasks in Berlin and New York wall time (through both zones' DST nights), three that
fire together, one that a history can show to be slow, and one that cannot be simulated.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aioclock_core import AioClock, At, Cron, Every
from aioclock_core.stores.base import Store
from aioclock_core.testing import FakeClock
from aioclock_core.triggers import LoopController

NAME = "simulated"


class WaitsOnItsOwn(LoopController[str]):
    """An aioclock-style trigger: it sleeps itself instead of naming its instants."""

    type_: str = "WAITS"
    max_loop_count: int | None = 1

    async def trigger_next(self) -> None:
        self._increment_loop_counter()


@asynccontextmanager
async def refusing_lifespan(_: AioClock) -> AsyncIterator[None]:
    raise RuntimeError("the lifespan ran during a simulation")
    yield


async def refusing_body() -> None:
    raise RuntimeError("a task body ran during a simulation")


def refuse(_: str) -> Callable[[], Awaitable[None]]:
    return refusing_body


def make(
    body_of: Callable[[str], Callable[[], Awaitable[None]]] = refuse,
    *,
    clock: FakeClock | None = None,
    store: Store | None = None,
    lifespan: Any = refusing_lifespan,
) -> AioClock:
    """The app; `body_of(name)` gives each task's body (by default one that raises)."""
    app = AioClock(name=NAME, lifespan=lifespan, clock=clock, store=store)
    triggers: dict[str, Any] = {
        "berlin nightly": Cron(cron="30 2 * * *", tz="Europe/Berlin"),
        "new york repeat": At(hour=1, minute=30, tz="America/New_York"),
        "slow poll": Every(minutes=1),
        "tick a": Every(minutes=5),
        "tick b": Every(minutes=5),
        "tick c": Cron(cron="*/5 * * * *", tz="UTC"),
        "legacy": WaitsOnItsOwn(),
    }
    for name, trigger in triggers.items():
        app.task(trigger=trigger, name=name)(body_of(name))
    return app


app = make()
