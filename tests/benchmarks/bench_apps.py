"""Apps the console and history benchmarks serve: N Every(1 s) tasks that record lateness.

Configured by environment variables (the benchmark starts them as `clocktui` processes):
BENCH_TASKS (count), BENCH_OUT (a JSON file written at shutdown with every run's lateness),
BENCH_STORE ("memory" or a SQLite path).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from aioclock_core import AioClock, Every
from aioclock_core.events import Event, RunStarted


def make() -> AioClock:
    """The benchmark app (a factory: `clocktui tests.benchmarks.bench_apps:make --factory`)."""
    count = int(os.environ.get("BENCH_TASKS", "1000"))
    out = os.environ.get("BENCH_OUT")
    store_spec = os.environ.get("BENCH_STORE", "memory")
    lateness: list[float] = []

    def on_events(batch: Sequence[Event]) -> None:
        for event in batch:
            if isinstance(event, RunStarted):
                lateness.append((event.started_at - event.scheduled_for).total_seconds())

    @asynccontextmanager
    async def lifespan(app: AioClock) -> AsyncIterator[None]:
        subscription = app.subscribe(on_events, on_loop=True, kinds=[RunStarted])
        try:
            yield
        finally:
            subscription.close()
            if out:
                with open(out, "w", encoding="utf-8") as file:
                    json.dump({"lateness": lateness}, file)

    store = None
    if store_spec != "memory":
        from aioclock_core.stores import SQLiteStore

        store = SQLiteStore(store_spec)
    app = AioClock(name=f"bench-{count}", lifespan=lifespan, store=store)
    for index in range(count):

        async def noop() -> None:
            return None

        app.task(trigger=Every(seconds=1), name=f"task-{index:05}")(noop)
    return app
