"""Apps the console and history benchmarks serve: N Every(1 s) tasks that record lateness.

Configured by environment variables (the benchmark starts them as `clocktui` processes):
BENCH_TASKS (count), BENCH_OUT (a JSON file written at shutdown with every run's lateness;
without it the app records nothing of its own),
BENCH_STORE ("memory" or a SQLite path), BENCH_PERIODS ("herd": every task every 1 s;
"mixed": task i every 1 + i % 60 s, a table most of which is idle at any second),
BENCH_FLOOD (lines a second one more task logs, from the start until shutdown; 0: none).

The JSON also holds `cpu`: (monotonic, process CPU) pairs sampled every 0.5 s by a thread,
so the benchmark reads the CPU of a window with nanosecond precision (the /proc tick
counters have 10 ms steps, too coarse for a 1-2 % share).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from aioclock_core import AioClock, Every, Once
from aioclock_core.events import Event, RunStarted


def make() -> AioClock:
    """The benchmark app (a factory: `clocktui tests.benchmarks.bench_apps:make --factory`)."""
    count = int(os.environ.get("BENCH_TASKS", "1000"))
    out = os.environ.get("BENCH_OUT")
    store_spec = os.environ.get("BENCH_STORE", "memory")
    mixed = os.environ.get("BENCH_PERIODS", "herd") == "mixed"
    lateness: list[float] = []
    cpu: list[tuple[float, float]] = []
    stop = threading.Event()

    def sample_cpu() -> None:
        while not stop.wait(0.5):
            cpu.append((time.monotonic(), time.process_time()))

    def on_events(batch: Sequence[Event]) -> None:
        for event in batch:
            if isinstance(event, RunStarted):
                run = event.run
                lateness.append((run.started_at - run.scheduled_for).total_seconds())

    @asynccontextmanager
    async def lifespan(app: AioClock) -> AsyncIterator[None]:
        if not out:  # nothing to report: serve the tasks alone (the memory benchmark)
            yield
            return
        subscription = app.subscribe(on_events, on_loop=True, kinds=[RunStarted])
        sampler = threading.Thread(target=sample_cpu, name="bench-cpu", daemon=True)
        sampler.start()
        try:
            yield
        finally:
            subscription.close()
            stop.set()
            if out:
                with open(out, "w", encoding="utf-8") as file:
                    json.dump({"lateness": lateness, "cpu": cpu}, file)

    store = None
    if store_spec != "memory":
        from aioclock_core.stores import SQLiteStore

        store = SQLiteStore(store_spec)
    app = AioClock(name=f"bench-{count}", lifespan=lifespan, store=store)
    for index in range(count):

        async def noop() -> None:
            return None

        period = 1 + index % 60 if mixed else 1
        app.task(trigger=Every(seconds=period), name=f"task-{index:05}")(noop)
    flood = int(os.environ.get("BENCH_FLOOD", "0"))
    if flood:
        app.task(trigger=Once(), name="flood")(_flood(app, flood))
    return app


def _flood(app: AioClock, rate: int) -> Callable[[], Awaitable[None]]:
    """A task that logs `rate` lines a second, on the scheduler's loop, until cancelled."""
    log = logging.getLogger("flood")

    async def flood() -> None:
        began = app.clock.monotonic()
        sent = 0
        while True:
            due = int((app.clock.monotonic() - began) * rate)
            for index in range(sent, due):
                log.info("line %d of the flood", index)
            sent = max(sent, due)
            await app.clock.sleep(0.01)

    return flood
